"""Mapper benchmark: task-mapper accuracy after 1..T tasks on the default suite, per mapper variant,
and the paper's configuration's package bytes and student MACs per variant beside the paper's figures.

    .venv/bin/python bench/mapper.py [--tasks N] [--quick] [--variants gmmc,mahalanobis,...]
    .venv/bin/python bench/mapper.py --add-run OTHER.json   # record another run beside this one

One receiver takes the tasks' packages in suite order; after each task it routes the test images of
every task known so far (the paper's Fig. 6 measure) and, at the end, reports accuracy with and
without the task oracle. Learning goes through the result cache ($SKILL_SIM_CACHE), so a rerun is
cheap. Writes bench/results/mapper.json atomically; prints rich tables.
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
from agents.anchors import GMMCAnchor, MahalanobisAnchor  # noqa: E402
from agents.backbone import create_backbone  # noqa: E402
from agents.config import BackboneConfig, LearnerConfig, SuiteConfig  # noqa: E402
from agents.features import FeatureCache  # noqa: E402
from agents.learner import ResultStore, eval_features, learn_task  # noqa: E402
from agents.macs import mahalanobis_inverse_macs, mahalanobis_scatter_macs  # noqa: E402
from agents.package import SharePackage  # noqa: E402
from agents.suites import TaskSuite, create_suite  # noqa: E402
from sim.experiment.results import write_json  # noqa: E402

OUT = Path(__file__).parent / "results" / "mapper.json"
# The variants: this project's defaults and the paper preset, for each mapper kind.
VARIANTS = {
    "gmmc": {"mapper": {"kind": "gmmc"}},
    "mahalanobis": {"mapper": {"kind": "mahalanobis"}},
    "gmmc-paper": {"preset": "paper", "mapper": {"kind": "gmmc"}},
    "mahalanobis-paper": {"preset": "paper", "mapper": {"kind": "mahalanobis"}},
}
CHECKPOINTS = (1, 2, 5, 10, 20, 30, 51, 75, 102)
# The paper's configuration: xception features, SKILL-102's classes per task, fp32.
PAPER = {"dim": 2048, "classes": 49, "k": 25, "m": 5, "image": (299, 299, 3), "macs_per_image": 8.355e9}
PAPER_FIGURES = {"gmmc": "~813 KB (text)", "mahalanobis (images)": "67.2 MB, student 5.0e9 MACs (Table 2)",
                 "mahalanobis (features)": "1.74 MB (text)"}


def learned(suite: TaskSuite, backbone, cfg: LearnerConfig, cache: FeatureCache, store: ResultStore) -> list:
    """Every task's LearnResult (task i with seed i), from the result cache when present."""
    out = []
    for task in suite.tasks:
        result = store.get(task, backbone, cfg, task.id)
        if result is None:
            result = learn_task(task, backbone, cfg, task.id, cache)
            store.put(task, backbone, cfg, task.id, result)
        out.append(result)
    return out


def curve(suite: TaskSuite, backbone, cfg: LearnerConfig, cache: FeatureCache, results: list) -> dict:
    """Mapper accuracy on all tasks so far after each task is received, plus final accuracies."""
    agent = Agent(0, backbone, cfg, cache)
    feats = [eval_features(t, backbone, cache) for t in suite.tasks]
    mapper_acc, student = [], 0
    for i, (task, result) in enumerate(zip(suite.tasks, results)):
        student += agent.receive(result.package)
        x = np.concatenate(feats[:i + 1])
        truth = np.concatenate([np.full(len(f), t.id) for f, t in zip(feats[:i + 1], suite.tasks)])
        mapper_acc.append(float((agent.mapper.predict(x) == truth).mean()))
    ev = agent.evaluate(suite)
    n = len(results)
    return {"mapper_accuracy_after": mapper_acc, "accuracy": ev.accuracy, "mapper_accuracy": ev.mapper_accuracy,
            "oracle_accuracy": ev.oracle_accuracy, "receiver_student_macs": student,
            "bytes_per_package": sum(len(r.package) for r in results) / n,
            "student_macs_per_package": sum(r.student_macs for r in results) / n,
            "settings": cfg.mapper.model_dump(mode="json")}


def paper_configuration() -> list[dict]:
    """Package bytes and student MACs at the paper's configuration, from the layouts (zeros)."""
    d, c, k, m = PAPER["dim"], PAPER["classes"], PAPER["k"], PAPER["m"]
    n, labels = c * m, np.repeat(np.arange(c), m).astype(np.int64)
    head = (np.zeros((c, d), np.float32), np.zeros(c, np.float32))
    anchors = {
        "gmmc": (GMMCAnchor(np.zeros((k, d), np.float32), np.ones((k, d), np.float32),
                            np.full(k, 1 / k, np.float32), n_samples=2450), 3 * k * d),
        "mahalanobis (features)": (MahalanobisAnchor(np.zeros((c, d), np.float32), np.zeros((n, d), np.float32), labels),
                                   mahalanobis_scatter_macs(n, d) + mahalanobis_inverse_macs(d) + c * (d * d + d)),
        "mahalanobis (images)": (MahalanobisAnchor(np.zeros((c, d), np.float32), None, labels,
                                                   np.zeros((n, *PAPER["image"]), np.uint8)),
                                 n * PAPER["macs_per_image"] + mahalanobis_scatter_macs(n, d)
                                 + mahalanobis_inverse_macs(d) + c * (d * d + d)),
    }
    rows = []
    for name, (anchor, student) in anchors.items():
        pkg = SharePackage(0, "task", tuple(f"class_{i}" for i in range(c)), *head, None, anchor)
        rows.append({"variant": name, "bytes_fp32": pkg.nbytes("fp32"), "bytes_fp16": pkg.nbytes("fp16"),
                     "student_macs_alone": float(student), "paper": PAPER_FIGURES[name]})
    rows.append({"variant": "mahalanobis: inverse when singular (shrinkage 0)", "bytes_fp32": None, "bytes_fp16": None,
                 "student_macs_alone": float(mahalanobis_inverse_macs(d, pseudo=True)), "paper": ""})
    return rows


def print_tables(report: dict) -> None:
    console = Console()
    t = Table(title=f"mapper accuracy on all tasks so far ({report['settings']['tasks']} tasks of "
                    f"{report['settings']['suite']['suite']})")
    t.add_column("tasks")
    names = list(report["curves"])
    for name in names:
        t.add_column(name, justify="right")
    for tasks in [c for c in CHECKPOINTS if c <= report["settings"]["tasks"]]:
        t.add_row(str(tasks), *(f"{report['curves'][n]['mapper_accuracy_after'][tasks - 1]:.3f}" for n in names))
    for key in ("accuracy", "oracle_accuracy"):
        t.add_row(f"final {key}", *(f"{report['curves'][n][key]:.3f}" for n in names))
    t.add_row("bytes / package", *(f"{report['curves'][n]['bytes_per_package']:,.0f}" for n in names))
    console.print(t)
    p = Table(title="paper configuration (2048-D, 49 classes, k 25, m 5, fp32)")
    for col in ("variant", "bytes fp32", "bytes fp16", "student MACs (one package alone)", "paper"):
        p.add_column(col)
    for r in report["paper_configuration"]:
        p.add_row(r["variant"], "" if r["bytes_fp32"] is None else f"{r['bytes_fp32']:,}",
                  "" if r["bytes_fp16"] is None else f"{r['bytes_fp16']:,}", f"{r['student_macs_alone']:.3e}", r["paper"])
    console.print(p)


def add_run(out: Path, other: Path) -> None:
    """Record a finished run (another --out of this script, e.g. more tasks on fewer variants) in
    `out`'s `more_runs`, keyed by its task count and variants, leaving `out`'s own run as it is."""
    import json

    report, run = json.loads(out.read_text()), json.loads(other.read_text())
    key = f"{run['settings']['tasks']} tasks: {', '.join(run['curves'])}"
    report.setdefault("more_runs", {})[key] = {k: run[k] for k in ("settings", "curves", "total_seconds")}
    write_json(out, report)
    for name, c in run["curves"].items():
        print(f"{key}: {name}: mapper {c['mapper_accuracy']:.3f}, accuracy {c['accuracy']:.3f}, "
              f"oracle {c['oracle_accuracy']:.3f}")
    print(f"recorded in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=102, help="default-suite tasks (default 102)")
    parser.add_argument("--quick", action="store_true", help="6 tasks: a smoke run")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated of {list(VARIANTS)}")
    parser.add_argument("--image-size", type=int, default=96, help="backbone input size (ring_51's 96)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--add-run", type=Path, help="record this finished run's JSON in --out's more_runs; run nothing")
    args = parser.parse_args()
    if args.add_run is not None:
        add_run(args.out, args.add_run)
        return
    if args.quick:
        args.tasks = 6
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    suite_cfg = SuiteConfig(num_tasks=args.tasks)
    suite = create_suite(suite_cfg)
    cache = FeatureCache()
    store = ResultStore(cache.root / "results")
    backbone_cfg = BackboneConfig(image_size=args.image_size)
    backbone = create_backbone(backbone_cfg)
    curves = {}
    for name in args.variants.split(","):
        cfg = LearnerConfig.model_validate({"backbone": backbone_cfg.model_dump(), **VARIANTS[name]})
        results = learned(suite, backbone, cfg, cache, store)
        curves[name] = curve(suite, backbone, cfg, cache, results)
        print(f"[{time.perf_counter() - start:6.0f}s] {name}: mapper {curves[name]['mapper_accuracy']:.3f}, "
              f"accuracy {curves[name]['accuracy']:.3f}", flush=True)
    report = {
        "settings": {"tasks": args.tasks, "suite": suite_cfg.model_dump(mode="json"), "image_size": args.image_size,
                     "backbone": backbone.name, "feature_dim": backbone.feature_dim, "threads": args.threads,
                     "macs_per_image": backbone.macs_per_image, "device": str(backbone.device),
                     "paper": PAPER, "torch": torch.__version__, "python": platform.python_version(),
                     "seeds": "task i learned with seed i"},
        "curves": curves,
        "paper_configuration": paper_configuration(),
        "total_seconds": time.perf_counter() - start,
    }
    write_json(args.out, report)
    print_tables(report)
    print(f"wrote {args.out} in {report['total_seconds']:.0f}s")


if __name__ == "__main__":
    main()
