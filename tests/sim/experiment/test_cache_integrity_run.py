"""Issue 14 end to end: a run over a cache whose package and feature files had bytes flipped (same
size) names each bad file in a warning, recomputes them and gives the results of the clean cache."""

import json
import shutil
from pathlib import Path

import pytest

from sim.experiment.cli import main

ROOT = Path(__file__).resolve().parents[3]
TINY = str(ROOT / "scenarios" / "tiny.yaml")
SAME = ("accuracy", "mapper_accuracy", "oracle_accuracy", "per_task_accuracy", "teacher_macs", "student_macs",
        "bytes_sent", "makespan_s")


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.slow  # two real tiny runs (about 1 min unloaded; several on a shared 2-core machine)
def test_a_run_over_flipped_bytes_warns_by_name_recomputes_and_matches_the_clean_run(cache, tmp_path, capsys):
    assert main(["run", TINY, "--out", str(tmp_path / "clean"), "--cache", cache, "--quiet"]) == 0
    clean = json.loads((tmp_path / "clean" / "results.json").read_text())
    damaged = tmp_path / "cache"
    shutil.copytree(cache, damaged)
    package = sorted((damaged / "results").glob("*.pkg"))[0]
    original = package.read_bytes()
    features = sorted((damaged / "features").glob("*.npy"))  # train and test features of every task
    for path in (package, *features):
        _flip_last_byte(path)
    capsys.readouterr()
    assert main(["run", TINY, "--out", str(tmp_path / "again"), "--cache", str(damaged), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"{package.name} is bad: its content checksum does not match" in err
    test_features_named = [p.name for p in features if p.name in err]
    assert len(test_features_named) >= 8  # every task's test features at least (evaluation reads them all)
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert {k: again[k] for k in SAME} == {k: clean[k] for k in SAME}
    assert package.read_bytes() == original  # relearned to the very bytes
