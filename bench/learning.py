"""Learning benchmark: accuracy, cost and package size of the four LLL variants on the mixed suite.

    .venv/bin/python bench/learning.py [--tasks N] [--quick]

Variants: BB on/off x GMMC/Mahalanobis on the offline pretrained Lite0, each in two settings:
  sequential  one agent learns every task in turn, then is evaluated on all test sets (paper Table 1);
  skill       each task learned by its own agent, all packages exchanged, one receiver evaluated.
Learning ignores the learner's bank, so both settings must give the same packages and accuracy.
Plus a randomly initialised backbone (the pretrained one must beat it) and feature throughput:
raw model forward on preprocessed tensors vs Backbone.features (uint8 in, numpy out).
Writes bench/results/learning.json atomically; prints a rich table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import struct
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from agents.agent import Agent, Evaluation  # noqa: E402
from agents.backbone import Backbone, create_backbone  # noqa: E402
from agents.config import (BackboneConfig, BBConfig, GMMCConfig, LearnerConfig,  # noqa: E402
                           MahalanobisConfig, SuiteConfig)
from agents.features import FeatureCache  # noqa: E402
from agents.learner import LearnResult, learn_task, train_features, eval_features  # noqa: E402
from agents.suites import TaskSuite, create_suite  # noqa: E402
from sim.experiment.results import write_json  # noqa: E402

OUT = Path(__file__).parent / "results" / "learning.json"
PHASES = ("features", "head", "bb", "anchor")


def variants(image_size: int, bb_epochs: int) -> dict[str, LearnerConfig]:
    """The four paper variants (BB off/on x GMMC/Mahalanobis) on the offline pretrained backbone."""
    backbone = BackboneConfig(image_size=image_size)
    bb = BBConfig(enabled=True, epochs=bb_epochs)
    return {
        "gmmc": LearnerConfig(backbone=backbone, mapper=GMMCConfig()),
        "mahalanobis": LearnerConfig(backbone=backbone, mapper=MahalanobisConfig()),
        "bb+gmmc": LearnerConfig(backbone=backbone, bb=bb, mapper=GMMCConfig()),
        "bb+mahalanobis": LearnerConfig(backbone=backbone, bb=bb, mapper=MahalanobisConfig()),
    }


def warm_features(suite: TaskSuite, backbone: Backbone, cache: FeatureCache) -> float:
    """Extract (and cache) every task's train and test features; return seconds per task."""
    start = time.perf_counter()
    for task in suite.tasks:
        train_features(task, backbone, cache)
        eval_features(task, backbone, cache)
    return (time.perf_counter() - start) / len(suite.tasks)


def canonical(package: bytes) -> tuple[dict, bytes]:
    """Parsed header and tensor bytes: safetensors writes metadata keys in random order."""
    (size,) = struct.unpack("<Q", package[:8])
    return json.loads(package[8:8 + size]), package[8 + size:]


def summarize(results: list[LearnResult], ev: Evaluation) -> dict:
    """One table row: accuracies, seconds, MACs by phase and bytes, averaged per task."""
    n = len(results)
    return {
        "accuracy": ev.accuracy,
        "mapper_accuracy": ev.mapper_accuracy,
        "oracle_accuracy": ev.oracle_accuracy,
        "seconds_per_task": sum(r.wall_s for r in results) / n,
        "macs_per_task": {p: sum(r.teacher_macs.get(p, 0) for r in results) / n for p in PHASES},
        "teacher_macs_per_task": sum(r.total_macs for r in results) / n,
        "student_macs_per_task": sum(r.student_macs for r in results) / n,
        "bytes_per_package": sum(len(r.package) for r in results) / n,
        "tasks_known": ev.tasks_known,
    }


def sequential(suite: TaskSuite, backbone: Backbone, cfg: LearnerConfig, cache: FeatureCache) -> tuple[dict, list]:
    """Paper Table 1: one agent learns all tasks in order, then is evaluated on all test sets."""
    agent = Agent(0, backbone, cfg, cache)
    results = [agent.learn(task, seed=task.id) for task in suite.tasks]
    return summarize(results, agent.evaluate(suite)), results


def skill(suite: TaskSuite, backbone: Backbone, cfg: LearnerConfig, cache: FeatureCache) -> tuple[dict, list]:
    """SKILL: agent i learns task i alone; a fresh receiver gets every package and is evaluated."""
    results = [learn_task(task, backbone, cfg, task.id, cache) for task in suite.tasks]
    receiver = Agent(len(suite.tasks), backbone, cfg, cache)
    student = sum(receiver.receive(r.package) for r in results)
    row = summarize(results, receiver.evaluate(suite))
    row["receiver_student_macs"] = student
    return row, results


def throughput(backbone: Backbone, images: np.ndarray, repeats: int = 2) -> dict:
    """Images/s of the raw forward on preprocessed tensors vs Backbone.features on the same images."""
    batches = [backbone.preprocess(images[i:i + backbone.batch_size])
               for i in range(0, len(images), backbone.batch_size)]
    backbone.features(images[:backbone.batch_size])  # warm-up: allocator, kernels

    def raw() -> None:
        with torch.inference_mode():
            for x in batches:
                backbone.model(x)

    def pipeline() -> None:
        backbone.features(images)

    best = {}
    for name, fn in (("raw_forward", raw), ("features", pipeline)):
        times = []
        for _ in range(repeats):  # interleaving would be fairer; best-of keeps it simple on a noisy box
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        best[name] = len(images) / min(times)
    return {"image_size": backbone.image_size, "images": len(images), "batch_size": backbone.batch_size,
            "raw_forward_images_per_s": best["raw_forward"], "features_images_per_s": best["features"],
            "features_over_raw": best["features"] / best["raw_forward"]}


def print_table(report: dict) -> None:
    """The results as one rich table plus a throughput line."""
    table = Table(title=f"mixed suite, {report['settings']['tasks']} tasks, {report['settings']['device']}")
    for col in ("setting", "backbone", "variant", "acc", "mapper", "oracle", "s/task", "GMACs/task",
                "features", "head", "bb", "anchor", "KB/pkg"):
        table.add_column(col, justify="left" if col in ("setting", "backbone", "variant") else "right")
    for row in report["rows"]:
        m = row["macs_per_task"]
        table.add_row(row["setting"], row["backbone"], row["variant"], f"{row['accuracy']:.3f}",
                      f"{row['mapper_accuracy']:.3f}", f"{row['oracle_accuracy']:.3f}",
                      f"{row['seconds_per_task']:.2f}", f"{row['teacher_macs_per_task'] / 1e9:.2f}",
                      *(f"{m[p] / 1e9:.2f}" for p in PHASES), f"{row['bytes_per_package'] / 1e3:.0f}")
    console = Console(width=160)
    console.print(table)
    for t in report["throughput"]:
        console.print(f"throughput @{t['image_size']}px: raw forward {t['raw_forward_images_per_s']:.0f} img/s, "
                      f"Backbone.features {t['features_images_per_s']:.0f} img/s "
                      f"(ratio {t['features_over_raw']:.2f})")
    for name, same in report["skill_equals_sequential"].items():
        console.print(f"skill == sequential ({name}): {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20, help="mixed-suite tasks (default 20)")
    parser.add_argument("--quick", action="store_true", help="4 tasks, fewer images: a smoke run")
    # Small defaults keep the whole run near 10 minutes on a shared 2-core CPU: BB trains through the
    # backbone (forward + backward per image per epoch) and runs twice per BB variant (both settings).
    parser.add_argument("--image-size", type=int, default=32, help="backbone input size (default 32)")
    parser.add_argument("--train-per-class", type=int, default=20)
    parser.add_argument("--test-per-class", type=int, default=10)
    parser.add_argument("--bb-epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.train_per_class, args.test_per_class, args.bb_epochs = 4, 12, 6, 1
    torch.set_num_threads(args.threads)
    start = time.perf_counter()

    suite_cfg = SuiteConfig(num_tasks=args.tasks, train_per_class=args.train_per_class,
                            test_per_class=args.test_per_class)
    suite = create_suite(suite_cfg)
    configs = variants(args.image_size, args.bb_epochs)
    rows, same = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = FeatureCache(Path(tmp) / "pretrained")
        backbone = create_backbone(configs["gmmc"].backbone)
        feature_s = {"offline": warm_features(suite, backbone, cache)}
        for name, cfg in configs.items():
            seq_row, seq_results = sequential(suite, backbone, cfg, cache)
            rows.append({"setting": "sequential", "backbone": "offline", "variant": name, **seq_row})
            sk_row, sk_results = skill(suite, backbone, cfg, cache)
            rows.append({"setting": "skill", "backbone": "offline", "variant": name, **sk_row})
            same[name] = all(canonical(a.package) == canonical(b.package)
                             for a, b in zip(seq_results, sk_results)) and all(
                seq_row[k] == sk_row[k] for k in ("accuracy", "mapper_accuracy", "oracle_accuracy"))
            print(f"[{time.perf_counter() - start:6.0f}s] {name}: acc {seq_row['accuracy']:.3f} "
                  f"(skill {sk_row['accuracy']:.3f})", flush=True)
        random_bb = BackboneConfig(image_size=args.image_size, weights="random")
        random_backbone = create_backbone(random_bb)
        random_cache = FeatureCache(Path(tmp) / "random")
        feature_s["random"] = warm_features(suite, random_backbone, random_cache)
        for name in ("gmmc", "mahalanobis"):
            cfg = configs[name].model_copy(update={"backbone": random_bb})
            row, _ = sequential(suite, random_backbone, cfg, random_cache)
            rows.append({"setting": "sequential", "backbone": "random", "variant": name, **row})
        images = np.concatenate([t.x_train for t in suite.tasks])[:512]
        speed = [throughput(backbone, images)]
        if args.image_size != 96:  # also at the default image_size
            speed.append(throughput(create_backbone(BackboneConfig()), images[:256]))

    report = {
        "settings": {
            "tasks": args.tasks, "quick": args.quick, "suite": suite_cfg.model_dump(mode="json"),
            "image_size": args.image_size, "bb_epochs": args.bb_epochs, "threads": args.threads,
            "device": str(backbone.device), "backbone": backbone.name, "feature_dim": backbone.feature_dim,
            "macs_per_image": backbone.macs_per_image, "classes": sum(t.num_classes for t in suite.tasks),
            "train_images": sum(len(t.y_train) for t in suite.tasks),
            "test_images": sum(len(t.y_test) for t in suite.tasks),
            "seeds": "task i learned with seed i in both settings",
            "note": "CPU shared with other jobs: timings are noisy; compare ratios within this run. "
                    "seconds_per_task is learning with features already cached; "
                    "feature_seconds_per_task is the one-off extraction of train+test features.",
            "torch": torch.__version__, "python": platform.python_version(),
        },
        "feature_seconds_per_task": feature_s,
        "rows": rows,
        "skill_equals_sequential": same,
        "pretrained_beats_random": {
            name: next(r["accuracy"] for r in rows if r["backbone"] == "offline" and r["variant"] == name
                       and r["setting"] == "sequential")
            > next(r["accuracy"] for r in rows if r["backbone"] == "random" and r["variant"] == name)
            for name in ("gmmc", "mahalanobis")
        },
        "throughput": speed,
        "total_seconds": time.perf_counter() - start,
    }
    write_json(args.out, report)
    print_table(report)
    print(f"wrote {args.out} in {report['total_seconds']:.0f}s")


if __name__ == "__main__":
    main()
