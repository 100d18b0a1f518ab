"""`skill-sim curves`: the paper's per-step curves (its Figs 4-8) for one agent that learns a scenario's
tasks in order, evaluated after each task on the tasks learned so far.

Every row is one number of tasks learned, t = 1..T, measured on the test sets of tasks 1..t:
- task1_accuracy: task 1's accuracy with no oracle (Fig. 4: does the first task survive?);
- first10_normalised: over the first min(10, t) tasks, the mean of each task's accuracy now divided
  by its accuracy right after it was learned (Fig. 5; 1.0 means nothing was forgotten);
- mapper_accuracy: the share of test inputs the task mapper sends to their own task (Fig. 6);
- accuracy / accuracy_oracle: mean over tasks of the per-task accuracy with no task oracle, and
  with a perfect oracle (Fig. 8); per-task accuracies after all T tasks go to per_task.csv (Fig. 7).
All are means over tasks (each task weighs the same, as in the paper's plots), not over images.

Learning goes through the same result cache as `run` (same keys and seeds), so after a run of the
scenario no task is learned again; only the T evaluations are computed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from agents.agent import Agent
from agents.atomic import write_atomic
from agents.suites import TaskSuite, create_suite
from sim.experiment.learned import learn_all
from sim.experiment.runner import Progress

FIRST = 10  # the paper's Fig. 5 follows the first 10 tasks
COLUMNS = ("tasks_learned", "task_id", "task_name", "task1_accuracy", "first10_normalised", "mapper_accuracy",
           "accuracy", "accuracy_oracle", "package_bytes", "teacher_macs", "cached")
PER_TASK = ("task_id", "task_name", "accuracy", "mapper_accuracy", "accuracy_oracle", "accuracy_when_learned")


def _quiet(name: str, /, **fields: Any) -> None:
    """Default progress callback: ignore everything."""


def compute(scenario: Any, *, cache_dir: Path | None = None, progress: Progress = _quiet) -> dict[str, Any]:
    """Learn (or read from the cache) every task, as `run` does (learned.learn_all), then give them
    to one agent in order and evaluate after each."""
    suite = create_suite(scenario.tasks)
    ids = [task.id for task in suite.tasks]
    learning = learn_all(scenario, suite, [ids], ids, cache_dir=cache_dir, progress=progress)
    backbone = learning.backbone
    agent = Agent(0, backbone, scenario.learner, cache=learning.features)
    rows: list[dict[str, Any]] = []
    when_learned: dict[int, float] = {}
    progress("evaluating", total=len(suite.tasks))
    for t, task in enumerate(suite.tasks, start=1):
        result = learning.learned[task.id]
        agent.receive(result.package)
        evaluation = agent.evaluate(TaskSuite(suite.name, suite.tasks[:t]))
        progress("evaluated", tasks=t)
        when_learned[task.id] = evaluation.per_task[task.id]
        rows.append(_row(t, task, suite, evaluation, when_learned, result, task.id not in learning.fresh))
    final = evaluation
    per_task = [{"task_id": task.id, "task_name": task.name, "accuracy": final.per_task[task.id],
                 "mapper_accuracy": final.per_task_mapper[task.id], "accuracy_oracle": final.per_task_oracle[task.id],
                 "accuracy_when_learned": when_learned[task.id]} for task in suite.tasks]
    return {"scenario": scenario.name, "tasks": len(suite.tasks), "backbone": backbone.name,
            "mapper": scenario.learner.mapper.kind, "bb": scenario.learner.bb.enabled,
            "rows": rows, "per_task": per_task}


def _row(t: int, task: Any, suite: TaskSuite, evaluation: Any, when_learned: dict[int, float], result: Any,
         cached: bool) -> dict[str, Any]:
    known = [k.id for k in suite.tasks[:t]]
    first = known[:FIRST]
    ratios = [evaluation.per_task[i] / when_learned[i] for i in first if when_learned[i] > 0]
    return {
        "tasks_learned": t,
        "task_id": task.id,
        "task_name": task.name,
        "task1_accuracy": evaluation.per_task[known[0]],
        "first10_normalised": float(np.mean(ratios)) if ratios else None,
        "mapper_accuracy": float(np.mean([evaluation.per_task_mapper[i] for i in known])),
        "accuracy": float(np.mean([evaluation.per_task[i] for i in known])),
        "accuracy_oracle": float(np.mean([evaluation.per_task_oracle[i] for i in known])),
        "package_bytes": len(result.package),
        "teacher_macs": result.total_macs,
        "cached": cached,
    }


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row[k] is None else row[k]) for k in columns})
    return buffer.getvalue().encode()


def save(out: Path, data: dict[str, Any], *, plots: bool = True) -> list[Path]:
    """Write curves.json, curves.csv (one row per tasks_learned), per_task.csv and the figures into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "curves.json", json.dumps(data, indent=1).encode())
    write_atomic(out / "curves.csv", _csv(data["rows"], COLUMNS))
    write_atomic(out / "per_task.csv", _csv(data["per_task"], PER_TASK))
    written = [out / "curves.json", out / "curves.csv", out / "per_task.csv"]
    if plots:
        from sim.experiment.plots import curves as figures

        written += figures.draw_all(out, data)
    return written


def summary(data: dict[str, Any]) -> str:
    """One line: where the curves end after all tasks."""
    last = data["rows"][-1]
    cached = sum(bool(r["cached"]) for r in data["rows"])
    return (f"{data['tasks']} tasks learned in order ({cached} from the cache): accuracy {100 * last['accuracy']:.1f} % "
            f"(oracle {100 * last['accuracy_oracle']:.1f} %), mapper {100 * last['mapper_accuracy']:.1f} %, "
            f"task 1 {100 * last['task1_accuracy']:.1f} %")
