"""`skill-sim cache info | prune` on a cache built entry by entry: counts by kind and state, sizes,
what each prune option removes, --cache and $SKILL_SIM_CACHE, bad input, and no torch at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from agents import atomic
from agents.features import FeatureCache
from agents.learner import LearnResult, ResultStore
from sim.experiment.cli import main

ROOT = Path(__file__).resolve().parents[3]
PROVENANCE = {"host": "h", "device": "cpu", "torch_threads": 1, "measured_at": "2026-12-01T00:00:00+00:00"}


class FakeBackbone:
    """What FeatureCache needs of a backbone: a fingerprint, a feature size, features of images."""

    fingerprint, feature_dim, device = "fake-backbone", 4, None

    def features(self, images):
        return np.arange(len(images) * 4, dtype=np.float32).reshape(len(images), 4)


class FakeTask:
    def __init__(self, tid):
        self.id, self.fingerprint = tid, f"task-{tid}"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """features: one sound, one with a flipped byte; results: one sound, one unsealed; temp files of a
    dead and of a live writer; a claim of a dead holder."""
    monkeypatch.setattr("agents.timing.provenance", lambda device: dict(PROVENANCE))
    root = tmp_path / "cache"
    features = FeatureCache(root)
    images = np.zeros((3, 2, 2, 3), np.uint8)
    features.get(FakeBackbone(), images, "good")
    features.get(FakeBackbone(), images, "flipped")
    bad = features.path_for(FakeBackbone(), "flipped")
    data = bytearray(bad.read_bytes())
    data[-1] ^= 0x01
    bad.write_bytes(bytes(data))
    store, cfg = ResultStore(root / "results"), _Cfg()
    result = LearnResult(task_id=0, package=b"package-bytes", teacher_macs={"features": 10}, student_macs=1,
                         wall_s=1.0, wall_measured={"features": PROVENANCE, "learning": PROVENANCE})
    for tid in (0, 1):
        store.put(FakeTask(tid), FakeBackbone(), cfg, 0, result)
    old = root / "results" / f"{store.key(FakeTask(1), FakeBackbone(), cfg, 0)}.json"
    old.write_text(json.dumps({k: v for k, v in json.loads(old.read_text()).items() if k != "integrity"}))
    dead = root / "features" / f".x.npy.{atomic.host_tag()}.{_dead_pid()}.{'a' * 12}.tmp"
    live = root / "features" / f".y.npy.{atomic.host_tag()}.{os.getpid()}.{'b' * 12}.tmp"
    claim = root / "claims" / "k.0.claim"
    claim.parent.mkdir()
    for path, text in ((dead, "half"), (live, "writing"), (claim, json.dumps({"host": atomic.host_tag(),
                                                                               "pid": _dead_pid()}))):
        path.write_text(text)
    return {"root": root, "bad": bad, "dead": dead, "live": live, "claim": claim, "unsealed": old}


class _Cfg:
    """A stand-in learner config: ResultStore.key needs only model_dump."""

    def model_dump(self, **kwargs):
        return {"lr": 0.1, "bb": {"enabled": False}}


def _json(capsys, *argv) -> dict:
    capsys.readouterr()
    assert main(list(argv) + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_info_counts_entries_by_kind_and_state_and_names_the_bad_one(cache, capsys):
    info = _json(capsys, "cache", "info", "--cache", str(cache["root"]))
    k = info["kinds"]
    assert (k["features"]["entries"], k["features"]["sound"], k["features"]["bad"]) == (2, 1, 1)
    assert (k["result"]["entries"], k["result"]["sound"], k["result"]["stale"]) == (2, 1, 1)
    assert (k["temp"]["entries"], k["temp"]["stale"], k["temp"]["live"]) == (2, 1, 1)
    assert (k["claim"]["entries"], k["claim"]["stale"]) == (1, 1)
    on_disk = [p for p in cache["root"].rglob("*") if p.is_file()]
    assert info["entries"] == 7 and info["bytes"] == sum(p.stat().st_size for p in on_disk)
    assert info["location"] == str(cache["root"])
    assert info["bad"] == [{"kind": "features", "file": str(cache["bad"]),
                            "reason": "its content checksum does not match (same size: the bytes changed)"}]
    assert main(["cache", "info", "--cache", str(cache["root"])]) == 0  # the table, and how to prune
    out = capsys.readouterr().out
    assert cache["bad"].name in out and "cache prune --bad" in out


def test_prune_alone_removes_only_dead_writers_temp_files_and_stale_claims(cache, capsys):
    claim_bytes = cache["claim"].stat().st_size
    answer = _json(capsys, "cache", "prune", "--cache", str(cache["root"]))
    assert answer["removed"] == {"temp": 1, "claim": 1} and answer["bytes"] == len("half") + claim_bytes
    assert not cache["dead"].exists() and not cache["claim"].exists()
    assert cache["live"].exists() and cache["bad"].exists()


def test_prune_bad_removes_bad_and_stale_entries_and_keeps_the_sound(cache, capsys):
    answer = _json(capsys, "cache", "prune", "--bad", "--cache", str(cache["root"]))
    assert answer["removed"] == {"features": 1, "result": 1, "temp": 1, "claim": 1}
    assert not cache["bad"].exists() and not cache["unsealed"].exists()
    info = _json(capsys, "cache", "info", "--cache", str(cache["root"]))
    assert info["bad"] == [] and info["kinds"]["features"]["sound"] == 1 and info["kinds"]["result"]["sound"] == 1


def test_prune_older_than_goes_by_the_newest_file_of_an_entry(cache, capsys):
    old = time.time() - 2 * 3600
    for path in (cache["bad"], cache["bad"].with_suffix(".json")):
        os.utime(path, (old, old))
    answer = _json(capsys, "cache", "prune", "--older-than", "1h", "--cache", str(cache["root"]))
    assert answer["removed"]["features"] == 1 and "result" not in answer["removed"]
    assert not cache["bad"].exists()


def test_prune_all_dry_run_removes_nothing_then_all_keeps_live_temp_files(cache, capsys, monkeypatch):
    monkeypatch.setenv("SKILL_SIM_CACHE", str(cache["root"]))  # no --cache: the variable decides
    before = sorted(p for p in cache["root"].rglob("*") if p.is_file())
    dry = _json(capsys, "cache", "prune", "--all", "--dry-run")
    assert dry["dry_run"] and dry["removed"] == {"features": 2, "result": 2, "temp": 1, "claim": 1}
    assert sorted(p for p in cache["root"].rglob("*") if p.is_file()) == before
    wet = _json(capsys, "cache", "prune", "--all")
    assert wet["bytes"] == dry["bytes"]
    assert [p for p in cache["root"].rglob("*") if p.is_file()] == [cache["live"]]


@pytest.mark.parametrize("argv, names", [
    (["cache", "prune", "--older-than", "3x"], ["--older-than", "'3x'", "12h"]),
    (["cache", "prune", "--older-than=-1d"], ["--older-than", "'-1d'"]),
    (["cache"], ["info", "prune"]),
    (["cache", "tidy"], ["tidy", "info", "prune"]),
])
def test_bad_arguments_exit_2_naming_what_is_allowed(argv, names, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert all(n in err for n in names) and "Traceback" not in err


def test_a_cache_path_that_is_a_file_exits_2(tmp_path, capsys):
    file = tmp_path / "cache"
    file.write_text("not a folder")
    assert main(["cache", "info", "--cache", str(file)]) == 2
    assert f"'{file}' is a file, not a folder" in capsys.readouterr().err


def test_a_missing_cache_is_empty_not_an_error(tmp_path, capsys):
    assert main(["cache", "info", "--cache", str(tmp_path / "none")]) == 0
    assert "no cache at" in capsys.readouterr().out
    assert _json(capsys, "cache", "prune", "--all", "--cache", str(tmp_path / "none"))["removed"] == {}


def test_the_cache_command_does_not_import_torch(cache):
    code = ("import sys; from sim.experiment.cli import main; "
            f"rc = main(['cache', 'info', '--cache', {str(cache['root'])!r}, '--quiet']); "
            "print(rc, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "False"]
