"""Suite benchmark: what the default suite does to the task mapper, distinct against mixed.

    .venv/bin/python bench/suites.py [--tasks N] [--suites distinct,mixed] [--mappers gmmc,mahalanobis]

For each suite and mapper, one receiver takes the 102 tasks' packages in suite order (tasks learned
with ring_51's learner and seeds, so a ring_51 run's cache makes this cheap). After every task it
routes the test images of all tasks so far (mapper accuracy after 1..T tasks, the paper's Fig. 6
measure: `mapper_accuracy_after`), and after 1, 10, 25, 51 and 102 tasks it is evaluated on the
test sets of the tasks it holds: mapper accuracy, accuracy with no oracle and with the oracle. At the end the mapper's routing errors are split by where they
land: a task of the same (source, domain) pair (a sibling: only `mixed` has them), the same source
under another domain, or another source. Writes bench/results/suites.json atomically.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from agents.agent import Agent  # noqa: E402
from agents.backbone import create_backbone  # noqa: E402
from agents.config import LearnerConfig  # noqa: E402
from agents.features import FeatureCache  # noqa: E402
from agents.learner import ResultStore, eval_features, learn_task  # noqa: E402
from agents.suites import TaskSuite, create_suite  # noqa: E402
from sim.experiment.learned import task_seed  # noqa: E402
from sim.experiment.results import write_json  # noqa: E402
from sim.experiment.loading import load_scenario  # noqa: E402

ROOT = Path(__file__).parent.parent
OUT = ROOT / "bench" / "results" / "suites.json"
CHECKPOINTS = (1, 10, 25, 51, 102)
MAPPERS = {"gmmc": {"kind": "gmmc", "k": 25}, "mahalanobis": {"kind": "mahalanobis"}}


def pair(task_name: str) -> tuple[str, str]:
    """(source, domain) of a task of the mixed or distinct suite, from its name."""
    source, domain = task_name.split("/")[:2]
    return source, domain


def learned(suite: TaskSuite, backbone, cfg: LearnerConfig, root_seed: int, cache: FeatureCache,
            store: ResultStore) -> list:
    """Every task's package, learned with the scenario's seed for it (from the cache when there)."""
    out = []
    for task in suite.tasks:
        seed = task_seed(root_seed, task.id)
        result = store.get(task, backbone, cfg, seed)
        if result is None:
            result = learn_task(task, backbone, cfg, seed, cache)
            store.put(task, backbone, cfg, seed, result)
        out.append(result.package)
    return out


def where_errors_land(suite: TaskSuite, agent: Agent, cache: FeatureCache) -> dict:
    """Share of the mapper's wrong routes that land on a sibling, the same source, elsewhere."""
    feats = [eval_features(t, agent.backbone, cache) for t in suite.tasks]
    truth = np.concatenate([np.full(len(f), t.id) for f, t in zip(feats, suite.tasks)])
    routed = agent.mapper.predict(np.concatenate(feats))
    pairs = {t.id: pair(t.name) for t in suite.tasks}
    wrong = np.flatnonzero(routed != truth)
    kinds = {"sibling": 0, "same_source": 0, "elsewhere": 0}
    for i in wrong:
        (s1, d1), (s2, d2) = pairs[int(truth[i])], pairs[int(routed[i])]
        kinds["sibling" if (s1, d1) == (s2, d2) else "same_source" if s1 == s2 else "elsewhere"] += 1
    return {"errors": len(wrong), **{k: v / max(len(wrong), 1) for k, v in kinds.items()}}


def curve(suite: TaskSuite, backbone, cfg: LearnerConfig, cache: FeatureCache, packages: list) -> dict:
    """Accuracies on the tasks held after each checkpoint, and where the final errors land."""
    agent = Agent(0, backbone, cfg, cache)
    feats = [eval_features(t, backbone, cache) for t in suite.tasks[:len(packages)]]
    truth = [np.full(len(f), t.id) for f, t in zip(feats, suite.tasks)]
    rows, mapper_after = [], []
    for i, package in enumerate(packages, start=1):
        agent.receive(package)
        routed = agent.mapper.predict(np.concatenate(feats[:i]))
        mapper_after.append(float((routed == np.concatenate(truth[:i])).mean()))
        if i in CHECKPOINTS or i == len(packages):
            ev = agent.evaluate(TaskSuite(suite.name, suite.tasks[:i]))
            rows.append({"tasks": i, "mapper_accuracy": ev.mapper_accuracy, "accuracy": ev.accuracy,
                         "oracle_accuracy": ev.oracle_accuracy})
    pairs = {pair(t.name) for t in suite.tasks}
    return {"after": rows, "mapper_accuracy_after": mapper_after, "errors": where_errors_land(suite, agent, cache),
            "pairs": len(pairs), "sources": len({s for s, _ in pairs}),
            "classes_per_task": float(np.mean([t.num_classes for t in suite.tasks]))}


def print_table(report: dict) -> None:
    console = Console(width=140)
    t = Table(title=f"mapper accuracy / accuracy (no oracle) / oracle accuracy on the tasks held, "
                    f"{report['settings']['backbone']} at {report['settings']['image_size']} px")
    t.add_column("suite, mapper")
    for c in CHECKPOINTS:
        if c <= report["settings"]["tasks"]:
            t.add_column(f"after {c}", justify="right")
    t.add_column("errors: sibling / same source / elsewhere", justify="right")
    for name, r in report["curves"].items():
        e = r["errors"]
        t.add_row(name, *(f"{a['mapper_accuracy']:.3f} / {a['accuracy']:.3f} / {a['oracle_accuracy']:.3f}"
                          for a in r["after"] if a["tasks"] in CHECKPOINTS),
                  f"{e['sibling']:.2f} / {e['same_source']:.2f} / {e['elsewhere']:.2f}")
    console.print(t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=102)
    parser.add_argument("--suites", default="distinct,mixed")
    parser.add_argument("--mappers", default=",".join(MAPPERS), help=f"comma-separated of {list(MAPPERS)}")
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "ring_51.yaml",
                        help="whose learner, seed and suite settings to use (default ring_51)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    scenario = load_scenario(args.scenario)
    cache = FeatureCache()
    store = ResultStore(cache.root / "results")
    backbone = create_backbone(scenario.learner.backbone)
    curves = {}
    for suite_name in args.suites.split(","):
        suite = create_suite(scenario.tasks.model_copy(update={"suite": suite_name, "num_tasks": args.tasks}))
        for mapper in args.mappers.split(","):
            cfg = LearnerConfig.model_validate({**scenario.learner.model_dump(mode="json"), "mapper": MAPPERS[mapper]})
            packages = learned(suite, backbone, cfg, scenario.seed, cache, store)
            curves[f"{suite_name}, {mapper}"] = curve(suite, backbone, cfg, cache, packages)
            last = curves[f"{suite_name}, {mapper}"]["after"][-1]
            print(f"[{time.perf_counter() - start:6.0f}s] {suite_name}, {mapper}: mapper {last['mapper_accuracy']:.3f}, "
                  f"accuracy {last['accuracy']:.3f}, oracle {last['oracle_accuracy']:.3f}", flush=True)
    report = {
        "settings": {"tasks": args.tasks, "scenario": str(args.scenario.relative_to(ROOT)),
                     "backbone": backbone.name, "image_size": backbone.image_size, "threads": args.threads,
                     "device": str(backbone.device), "torch": torch.__version__,
                     "python": platform.python_version(),
                     "seeds": "the scenario's per-task seeds (sim.experiment.learned.task_seed)",
                     "note": "accuracies after T tasks are on the test sets of the first T tasks"},
        "curves": curves,
        "total_seconds": time.perf_counter() - start,
    }
    write_json(args.out, report)
    print_table(report)
    print(f"wrote {args.out} in {report['total_seconds']:.0f}s")


if __name__ == "__main__":
    main()
