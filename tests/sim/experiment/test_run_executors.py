"""Issue 14 item 4: `run --executor inline | local | ray` learns the missing tasks on the chosen
executor (the one learning loop, learned.learn_claimed, in every case) and gives the same results.json
whichever executor and worker count, each from an empty cache; bad executor options exit 2."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import sys
from pathlib import Path

import pytest

from sim.experiment import executor_options
from sim.experiment.cli import main
from sim.experiment.study.executors import base
from sim.experiment.study.executors.local import _start_worker
from sim.experiment.study.executors.ray import learning_resources

ROOT = Path(__file__).resolve().parents[3]
TINY = str(ROOT / "scenarios" / "tiny.yaml")
# tiny, smaller still: 6 tasks, so that three cold runs (one per executor) stay short.
SMALL = [f"--set={o}" for o in ("tasks.num_tasks=6", "tasks.train_per_class=8", "tasks.test_per_class=2",
                                "learner.head.epochs=3", "learner.mapper.k=2")]


def run(out: Path, cache: Path, *options: str) -> dict:
    assert main(["run", TINY, *SMALL, "--out", str(out), "--cache", str(cache), "--quiet", *options]) == 0
    return json.loads((out / "results.json").read_text())


def without_wall_clock(data):
    """results.json less what measures wall-clock time (or names the run): everything else must agree."""
    if isinstance(data, dict):
        return {k: without_wall_clock(v) for k, v in data.items() if k != "run_id" and not k.endswith("wall_s")}
    if isinstance(data, list):
        return [without_wall_clock(v) for v in data]
    return data


@pytest.fixture(scope="module")
def inline(tmp_path_factory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("inline")
    return run(root / "run", root / "cache"), root / "cache"


@pytest.fixture(scope="module")
def local_two(tmp_path_factory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("local2")
    return run(root / "run", root / "cache", "--executor", "local", "--workers", "2"), root / "cache"


def test_local_two_workers_from_an_empty_cache_gives_the_inline_results(inline, local_two):
    (fresh_inline, cache_inline), (fresh_local, cache_local) = inline, local_two
    assert fresh_local["learning"]["cached_tasks"] == 0  # every task was learned, by the workers
    assert without_wall_clock(fresh_local) == without_wall_clock(fresh_inline)
    assert fresh_local["learning"]["wall_s"] > 0
    names = sorted(p.name for p in (cache_local / "results").glob("*.pkg"))
    assert len(names) == 6 and names == sorted(p.name for p in (cache_inline / "results").glob("*.pkg"))
    assert not list((cache_local / "claims").glob("*.claim"))  # every worker released its claims


def test_a_warm_run_on_the_local_executor_learns_nothing(local_two, tmp_path):
    again = run(tmp_path / "run", local_two[1], "--executor", "local", "--workers", "2")
    assert again["learning"].pop("cached_tasks") == 6
    cold = without_wall_clock(local_two[0])
    cold["learning"].pop("cached_tasks")
    assert without_wall_clock(again) == cold


@pytest.mark.parametrize("kind", ["local", "ray"])
def test_a_warm_cache_starts_no_executor(kind, inline, tmp_path, monkeypatch):
    """Nothing to learn: neither a process pool nor a Ray instance is started (the factory would say)."""
    if kind == "ray":
        pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'skill-sim[ray]')")
    from sim.experiment.study import executors

    started = []
    monkeypatch.setattr(executors, "create_executor", lambda *a, **k: started.append(a) or pytest.fail("started"))
    again = run(tmp_path / "run", inline[1], "--executor", kind, "--workers", "2")
    assert started == []
    assert again["learning"].pop("cached_tasks") == 6
    cold = without_wall_clock(inline[0])
    cold["learning"].pop("cached_tasks")
    assert without_wall_clock(again) == cold


def test_ray_from_an_empty_cache_gives_the_same_results_and_fills_the_drivers_cache(local_two, tmp_path):
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'skill-sim[ray]')")
    cache = tmp_path / "cache"
    fresh = run(tmp_path / "run", cache, "--executor", "ray", "--workers", "2")
    assert fresh["learning"]["cached_tasks"] == 0
    assert without_wall_clock(fresh) == without_wall_clock(local_two[0])
    local_cache = local_two[1] / "results"
    for package in sorted(local_cache.glob("*.pkg")):  # both learned on one-thread workers: the same bytes
        assert (cache / "results" / package.name).read_bytes() == package.read_bytes()


def test_ray_shipping_results_writes_them_to_the_drivers_cache(local_two, tmp_path):
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'skill-sim[ray]')")
    from sim.experiment import runner
    from sim.experiment.loading import load_scenario
    from sim.experiment.study.executors.ray import RayExecutor

    cache = tmp_path / "cache"
    shutil.copytree(local_two[1], cache)
    shutil.rmtree(cache / "results")  # the heads are learned again (from the cached features), then shipped
    scenario = load_scenario(TINY, [o.removeprefix("--set=") for o in SMALL])
    with RayExecutor(2, ship=True) as executor:  # as on a cluster
        prepared = runner.prepare(scenario, cache_dir=cache, executor=executor)
    assert prepared.learning.fresh == set(range(6))
    for package in sorted((local_two[1] / "results").glob("*.pkg")):
        assert (cache / "results" / package.name).read_bytes() == package.read_bytes()
    assert sorted(r.package for r in prepared.learning.learned.values()) == \
        sorted(p.read_bytes() for p in (local_two[1] / "results").glob("*.pkg"))


@pytest.mark.slow  # a third cold learning pass (75 s on the loaded 2-core machine)
def test_workers_name_the_bad_cache_entries_they_discard(local_two, tmp_path, capsys):
    cache = tmp_path / "cache"
    shutil.copytree(local_two[1], cache)
    shutil.rmtree(cache / "results")  # every task is learned again, reading its (damaged) train features
    features = sorted((cache / "features").glob("*.npy"))
    for path in features:
        data = bytearray(path.read_bytes())
        data[-1] ^= 0x01  # same size, one bit flipped
        path.write_bytes(bytes(data))
    capsys.readouterr()
    again = run(tmp_path / "run", cache, "--executor", "local", "--workers", "2")
    err = capsys.readouterr().err
    # The driver reads only test features (to evaluate): the train features are named by the workers.
    assert [p.name for p in features if p.name in err] == [p.name for p in features]
    assert without_wall_clock(again) == without_wall_clock(local_two[0])


def test_worker_numbers_take_the_gpus_round_robin(monkeypatch):
    counter = multiprocessing.get_context("spawn").Value("i", 0)
    seen = []
    for _ in range(3):
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        _start_worker(counter, ("3", "5"))
        seen.append(base.os.environ["CUDA_VISIBLE_DEVICES"])
    assert seen == ["3", "5", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    _start_worker(counter, ())  # no GPUs given: the worker keeps what it inherited
    assert base.os.environ["CUDA_VISIBLE_DEVICES"] == "7"


@pytest.mark.parametrize("listed, ids", [("0,1", ["0", "1"]), ("2", ["2"]), ("", []), ("1,-1,2", ["1"]),
                                         ("GPU-5e3f,GPU-77aa", ["GPU-5e3f", "GPU-77aa"])])
def test_visible_gpus_reads_cuda_visible_devices_as_cuda_does(monkeypatch, listed, ids):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", listed)
    assert base.visible_gpus() == ids


def _args(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"executor": "local", "workers": None, "address": None, **given})


def test_learning_on_auto_or_cuda_gets_one_local_worker_per_gpu(monkeypatch):
    monkeypatch.setattr(base, "visible_gpus", lambda: ["0", "1", "2"])
    with executor_options.learning_executor(_args(), "auto") as executor:
        assert executor.workers == 3 and executor.gpus == ("0", "1", "2")
        assert "GPUs 0,1,2" in executor.describe()
    with executor_options.learning_executor(_args(workers=2), "cuda") as executor:
        assert executor.workers == 2 and executor.gpus == ("0", "1", "2")
    with executor_options.learning_executor(_args(workers=2), "cpu") as executor:  # cpu: no GPU given out
        assert executor.gpus == ()
    with executor_options.learning_executor(_args(), "cuda:1") as executor:  # pinned by the user: kept
        assert executor.gpus == () and executor.workers == base.default_workers()
    with executor_options.learning_executor(_args(executor="inline"), "auto") as executor:
        assert executor is None


@pytest.mark.parametrize("device, cluster_gpus, gpus", [("cuda", 0, 1), ("cuda:1", 4, 1), ("auto", 2, 1),
                                                        ("auto", 0, 0), ("cpu", 8, 0)])
def test_ray_learning_tasks_ask_for_a_gpu_when_they_learn_on_cuda(device, cluster_gpus, gpus):
    assert learning_resources(device, cluster_gpus) == {"num_cpus": 1, "num_gpus": gpus}


def test_zero_workers_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", TINY, "--executor", "local", "--workers", "0"])
    assert exit_.value.code == 2 and "--workers: 0: at least one worker" in capsys.readouterr().err


@pytest.mark.parametrize("options, says", [
    (["--workers", "2"], "learning inline runs in this process; add --executor local"),
    (["--address", "127.0.0.1:1"], "only --executor ray joins a cluster"),
    (["--executor", "local", "--address", "127.0.0.1:1"], "only --executor ray joins a cluster"),
])
def test_executor_options_the_executor_would_ignore_exit_2(tmp_path, capsys, options, says):
    assert main(["run", TINY, "--out", str(tmp_path / "o"), *options]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_ray_without_ray_installed_exits_2_with_the_install_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert main(["run", TINY, "--out", str(tmp_path / "o"), "--executor", "ray"]) == 2
    assert "pip install 'skill-sim[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_an_unreachable_ray_address_exits_2_naming_it(tmp_path, capsys):
    pytest.importorskip("ray", reason="the Ray extra is not installed (pip install 'skill-sim[ray]')")
    # an empty cache: a task is to be learned, so the executor starts and finds no cluster there
    assert main(["sweep", TINY, *SMALL, "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "cache"),
                 "--executor", "ray", "--address", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "--address 127.0.0.1:1: no Ray head node answers" in err and "Traceback" not in err
