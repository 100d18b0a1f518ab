"""Two processes learning one scenario into one cache split the tasks: none is learned twice."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OVERRIDES = ["tasks.num_tasks=6", "tasks.train_per_class=8", "tasks.test_per_class=2", "learner.head.epochs=3",
             "learner.mapper.k=2"]

# A worker: load everything, wait for the start signal, learn (each learning call logged and slowed
# to 0.5 s, so that the two workers overlap however the machine schedules them), report what it learned.
WORKER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    from sim.experiment import learned, runner
    from sim.experiment.loading import load_scenario
    cache, go, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    scenario = load_scenario("tiny", sys.argv[4:])
    inner = learned.learn_task
    def logged(task, *args, **kwargs):
        with open(log, "a") as handle:  # O_APPEND: one whole line per call, whoever writes
            handle.write(f"{task.id} {os.getpid()}\\n")
        time.sleep(0.5)
        return inner(task, *args, **kwargs)
    learned.learn_task = logged  # the one learning loop (learned.learn_claimed) calls it
    import agents.backbone  # the slow imports before the start signal
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    prepared = runner.prepare(scenario, cache_dir=cache)
    print(json.dumps({"fresh": sorted(prepared.learning.fresh), "pid": os.getpid(),
                      "packages": {str(t): r.package.hex() for t, r in sorted(prepared.learning.learned.items())}}))
""")


@pytest.mark.slow  # two worker processes learning for real (3.5 min on the shared 2-core machine)
def test_two_processes_on_one_cache_learn_each_task_exactly_once(tmp_path):
    cache, go, log = tmp_path / "cache", tmp_path / "go", tmp_path / "learned.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(cache), str(go), str(log), *OVERRIDES],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    for w in workers:
        assert w.stdout.readline().strip() == "ready", w.stderr.read()
    go.touch()
    outs = []
    for w in workers:
        out, err = w.communicate(timeout=600)
        assert w.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    calls = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    learned_ids = sorted(task for task, _ in calls)
    assert learned_ids == list(range(6))  # six tasks, six learning calls in all: none twice
    for out in outs:  # each process's own count agrees with the log, and both took a share
        assert sorted(t for t, pid in calls if pid == out["pid"]) == out["fresh"] and out["fresh"]
    assert outs[0]["packages"] == outs[1]["packages"]  # and both end with every task's same package
    assert not list((cache / "claims").glob("*.claim"))  # every claim released
