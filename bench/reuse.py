"""Knowledge-reuse benchmark (issue 15): ring_51 with reuse on (co-simulated) against reuse off
(decoupled: learned up front, costs replayed), on the default suite (distinct).

    .venv/bin/python bench/reuse.py [--match names|visual] [--alpha A] [--curve-tasks K] [--out JSON]

Reports teacher MACs, epochs to early stop, accuracy with and without the task oracle, a per-epoch
validation-accuracy curve for matched and unmatched classes of reused tasks in the style of the
paper's Fig. 11 (matched classes from their banked rows, the same classes from random rows, and the
unmatched classes beside them), the paper's Table 3 setting (`pairs`: tasks whose every class another
task holds, learned from its head or from random rows), and the wall time of the co-simulated run
against the decoupled one.
Learning goes through the result cache ($SKILL_SIM_CACHE). Writes bench/results/reuse.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from agents.head import HeadStart, train_head  # noqa: E402
from agents.learner import eval_features, train_features  # noqa: E402
from agents.package import SharePackage  # noqa: E402
from agents.reuse import Match, head_start, match_names  # noqa: E402
from sim.experiment import runner  # noqa: E402
from sim.experiment.loading import load_scenario  # noqa: E402
from sim.experiment.results import write_json  # noqa: E402

OUT = Path(__file__).parent / "results" / "reuse.json"


# CPU seconds (user + system) of this process: on a shared machine wall time measures the neighbours
CPU: dict[str, float] = {}


def timed_run(name: str, overrides: list[str], cache: Path | None,
              label: str) -> tuple[dict, float, float, object]:
    """(results, prepare wall s, simulate+evaluate wall s, prepared) of one scenario run in-process;
    the CPU seconds of the two parts go into CPU[label + "_prepare" | "_simulate_evaluate"]."""
    scenario = load_scenario(name, overrides)
    start, cpu0 = time.perf_counter(), time.process_time()
    prepared = runner.prepare(scenario, cache_dir=cache)
    mid, cpu1 = time.perf_counter(), time.process_time()
    results, raw = runner.run_alpha(prepared, scenario.alphas[0])
    CPU[f"{label}_prepare"], CPU[f"{label}_simulate_evaluate"] = cpu1 - cpu0, time.process_time() - cpu1
    return results, mid - start, time.perf_counter() - mid, (prepared, raw)


def curves(prepared, raw, results: dict, k: int) -> dict:
    """Fig. 11-style per-epoch validation accuracy on the k reused tasks with the most matched rows."""
    learning = runner.learning_of(prepared, raw)
    lessons = [r for r in results["reuse"]["per_lesson"] if r["matched"]]
    lessons = sorted(lessons, key=lambda r: (-r["matched"], r["task"]))[:k]
    cfg = prepared.scenario.learner
    tasks = {t.id: t for t in learning.suite.tasks}
    from sim.experiment.learned import task_seed

    series = {"matched_reused": [], "matched_scratch": [], "unmatched_reused": [], "unmatched_scratch": []}
    best = {"reused": [], "scratch": []}
    for r in lessons:
        task = tasks[r["task"]]
        matches = [Match(row, tid, j, 1.0) for row, tid, j in r["matches"]]
        bank = {m.task_id: SharePackage.from_bytes(learning.learned[m.task_id].package) for m in matches}
        feats = train_features(task, learning.backbone, learning.features)
        seed = task_seed(prepared.scenario.seed, task.id)
        fixed = cfg.head.model_copy(update={"patience": cfg.head.epochs})  # every epoch, for the curve
        reused = train_head(feats, task.y_train, task.num_classes, fixed, seed, start=head_start(matches, bank, cfg.reuse.train == "normalised"),
                            trace=True)
        scratch = train_head(feats, task.y_train, task.num_classes, fixed, seed, trace=True)
        rows = {m.row for m in matches}
        for label, head in (("reused", reused), ("scratch", scratch)):
            curve = np.asarray(head.curve)  # [epochs, classes]
            on = [c for c in range(task.num_classes) if c in rows]
            off = [c for c in range(task.num_classes) if c not in rows]
            series[f"matched_{label}"].append(np.nanmean(curve[:, on], axis=1))
            if off:
                series[f"unmatched_{label}"].append(np.nanmean(curve[:, off], axis=1))
            best[label].append(head.best_epoch)
    mean = {key: (np.nanmean(np.stack(v), axis=0).round(4).tolist() if v else []) for key, v in series.items()}
    return {"tasks": [r["task"] for r in lessons], "epochs": cfg.head.epochs, "per_epoch_val_accuracy": mean,
            "best_epoch_mean": {k: float(np.mean(v)) if v else None for k, v in best.items()},
            "tasks_with_unmatched": len(series["unmatched_reused"])}


def pairs(prepared) -> dict:
    """The paper's Table 3 setting outside the network: each task that shares at least half of its
    class names with another task of the suite (the same classes of its source under another
    domain; the task sharing most, then the lowest id) learned from that task's up-front head
    (trained normalised, and plain: ReuseConfig.train), from random rows, and from random rows
    trained normalised, with the scenario's early stopping: epochs run, best epoch, epoch-1 and best
    validation accuracy, test accuracy; means over all such tasks and over those fully matched."""
    learning, cfg = prepared.learning, prepared.scenario.learner
    from sim.experiment.learned import task_seed

    tasks = sorted(learning.suite.tasks, key=lambda t: t.id)
    packages = {t.id: SharePackage.from_bytes(learning.learned[t.id].package) for t in tasks}
    rows = []
    for task in tasks:
        shared = {o.id: len(set(task.classes) & set(o.classes)) for o in tasks if o.id != task.id}
        donor_id = min(shared, key=lambda tid: (-shared[tid], tid))
        if 2 * shared[donor_id] < task.num_classes:
            continue
        matches = match_names(task.classes, {donor_id: packages[donor_id]}, 1.0)
        feats = train_features(task, learning.backbone, learning.features)
        test = eval_features(task, learning.backbone, learning.features)
        seed = task_seed(prepared.scenario.seed, task.id)
        row = {"task": task.id, "donor": donor_id, "classes": task.num_classes, "matched": len(matches)}
        # "normalised": random rows in the reused head's parametrisation (agents.head.InfNormLinear),
        # which separates what the start does from what training with normalised rows does
        dim = feats.shape[1]
        nothing = HeadStart(rows=(), weight=np.zeros((0, dim), np.float32), bias=np.zeros(0, np.float32))
        arms = (("reused", head_start(matches, packages)), ("reused_plain", head_start(matches, packages, False)),
                ("scratch", None), ("normalised", nothing))
        for label, start in arms:
            head = train_head(feats, task.y_train, task.num_classes, cfg.head, seed, start=start, trace=True)
            hit = (test @ head.weight.T + head.bias).argmax(1) == task.y_test
            row[label] = {"epochs_run": head.epochs_run, "best_epoch": head.best_epoch, "macs": head.macs,
                          "val_epoch1": float(np.nanmean(head.curve[0])), "val_best": head.val_accuracy,
                          "test": float(hit.mean())}
        rows.append(row)
    def means(some: list[dict]) -> dict:
        return {label: {k: float(np.mean([r[label][k] for r in some])) for k in some[0][label]} if some else {}
                for label in ("reused", "reused_plain", "scratch", "normalised")}

    full = [r for r in rows if r["matched"] == r["classes"]]
    return {"pairs": len(rows), "fully_matched": len(full), "mean": means(rows), "mean_fully_matched": means(full),
            "rows": rows}


def _reuse_entries(cache: Path | None) -> int:
    """Result entries in the cache (each co-simulated lesson with matches adds one)."""
    from agents.features import FeatureCache

    return len(list((FeatureCache(cache).root / "results").glob("*.json")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--match", default="names", choices=["names", "visual"])
    parser.add_argument("--alpha", type=float, default=1000.0)
    parser.add_argument("--curve-tasks", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON written (default {OUT})")
    args = parser.parse_args()
    console = Console()
    common = [f"alpha={args.alpha:g}"]
    off, off_prep_s, off_sim_s, _ = timed_run("ring_51", common, args.cache, "decoupled")
    before = _reuse_entries(args.cache)
    on, on_prep_s, on_sim_s, (prepared, raw) = timed_run(
        "ring_51_reuse", common + [f"learner.reuse.match={args.match}"], args.cache, "cosim_first")
    fresh = _reuse_entries(args.cache) - before  # lessons the first co-simulated run had to learn
    # the same run again: every lesson is now a cache hit, so this is co-simulation's own overhead
    # (the first run is cold for the lessons only when --cache holds no reuse results yet)
    again, _, warm_sim_s, _ = timed_run("ring_51_reuse", common + [f"learner.reuse.match={args.match}"], args.cache,
                                    "cosim_again")
    reuse = dict(on["reuse"])
    per_lesson = reuse.pop("per_lesson")
    fig11 = curves(prepared, raw, on, args.curve_tasks)
    table3 = pairs(prepared)
    head_off = off["learning"]["macs_by_phase"].get("head", 0)
    head_on = on["learning"]["macs_by_phase"].get("head", 0)
    data = {
        "machine": {"host": platform.node(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_avg_at_end": os.getloadavg(), "shared": "yes: other jobs ran beside it; compare CPU s"},
        "match": args.match, "alpha": args.alpha,
        "off": {k: off[k] for k in ("teacher_macs", "accuracy", "mapper_accuracy", "oracle_accuracy", "makespan_s",
                                     "speedup")} | {"head_macs": head_off},
        "on": {k: on[k] for k in ("teacher_macs", "accuracy", "mapper_accuracy", "oracle_accuracy", "makespan_s",
                                   "speedup")} | {"head_macs": head_on},
        "reuse": reuse,
        "deterministic": again["teacher_macs"] == on["teacher_macs"] and again["accuracy"] == on["accuracy"],
        "wall_s": {"decoupled_prepare": off_prep_s, "decoupled_simulate_evaluate": off_sim_s,
                   "cosim_prepare": on_prep_s, "cosim_simulate_evaluate_first": on_sim_s,
                   "cosim_simulate_evaluate_again": warm_sim_s, "lessons_learned_first": fresh},
        "cpu_s": dict(CPU),
        "fig11": fig11,
        "table3": table3,
        "per_lesson": per_lesson,
    }
    write_json(args.out, data)
    table = Table(title=f"ring_51, reuse ({args.match}) on vs off, alpha {args.alpha:g}")
    for col in ("", "off", "on"):
        table.add_column(col)
    for key in ("teacher_macs", "head_macs", "accuracy", "oracle_accuracy", "mapper_accuracy", "makespan_s"):
        table.add_row(key, f"{data['off'][key]:.4g}", f"{data['on'][key]:.4g}")
    table.add_row("epochs (all tasks)", str(reuse["epochs_decoupled"]), str(reuse["epochs"]))
    table.add_row("epochs (reused tasks)", str(reuse["epochs_decoupled_reused_tasks"]), str(reuse["epochs_reused_tasks"]))
    table.add_row("tasks reused / classes matched", "", f"{reuse['tasks_reused']} / {reuse['classes_matched']}")
    table.add_row("wall: simulate+evaluate (s)", f"{off_sim_s:.1f}",
                  f"{on_sim_s:.1f} first ({fresh} lessons learned), {warm_sim_s:.1f} again")
    table.add_row("CPU: simulate+evaluate (s)", f"{CPU['decoupled_simulate_evaluate']:.1f}",
                  f"{CPU['cosim_first_simulate_evaluate']:.1f} first, {CPU['cosim_again_simulate_evaluate']:.1f} again")
    console.print(table)
    console.print(f"Fig. 11 curves (mean over {len(fig11['tasks'])} reused tasks): {fig11['per_epoch_val_accuracy']}")
    t3 = Table(title=f"Table 3 setting: {table3['pairs']} tasks sharing half their classes with another "
                     f"({table3['fully_matched']} all of them)")
    for col in ("", "epochs run", "best epoch", "val acc epoch 1", "val acc best", "test acc", "head MACs"):
        t3.add_column(col)
    for group in ("mean", "mean_fully_matched"):
        for label, m in table3[group].items():
            t3.add_row(f"{label}{' (all matched)' if group != 'mean' else ''}", f"{m['epochs_run']:.1f}",
                       f"{m['best_epoch']:.1f}", f"{m['val_epoch1']:.3f}", f"{m['val_best']:.3f}", f"{m['test']:.3f}",
                       f"{m['macs']:.3g}")
    console.print(t3)
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
