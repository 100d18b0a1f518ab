"""Co-simulation (knowledge reuse, issue 15): the SimPy engine asks for each task at the simulated
moment its agent starts it, and this module learns it from the packages in the agent's bank then
(agents.reuse), so the network changes what is learned and what it costs.

- `CoLearner`: one per prepared scenario; it keeps every result it made (in memory and in the
  result cache) so the alphas of a sweep and reruns share them. `CoLearner.teacher()` is one run's
  `sim.teacher.Teacher`.
- A task that matches nothing in the bank is the up-front (decoupled) result itself, the same cache
  entry as with reuse off. A task with matches is cached under its up-front key, the reuse settings
  and, for each matched row, the key of the banked package it started from and that package's row:
  exactly the set of banked packages the initialisation used.
- The package of task k in a run is the one its first completed lesson made (`learning_of_run`):
  the engine's banks hold task ids, not versions, so a relearn after a bank wipe is charged from
  the bank it then has, while receivers keep the first package. A lesson a crash interrupted made
  nothing: the lesson asked for after the recovery (from the bank then) is the one that counts.
  Evaluation and every bank lookup go through `learning_of_run`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from agents.learner import LearnResult, ResultStore, learn_task
from agents.package import SharePackage
from agents.reuse import START_VERSION, find_matches, head_start
from sim.experiment.learned import Learning, task_seed
from sim.experiment.scenario import Scenario
from sim.simulate import SimResult
from sim.teacher import Lesson


@dataclass
class CoLearner:
    """Learns tasks from banks for one prepared scenario; its `teacher()` serves one run."""

    learning: Learning
    scenario: Scenario
    results: dict[str, LearnResult] = field(default_factory=dict)  # lesson key -> result
    evaluations: dict[tuple, dict] = field(default_factory=dict)  # a run's packages -> its bank evaluations
    records: list[list[dict[str, Any]]] = field(default_factory=list)  # each run's lessons, as its teacher saw them

    def __post_init__(self) -> None:
        learning, cfg = self.learning, self.scenario.learner
        self.store = ResultStore(learning.features.root / "results")
        self.tasks = {t.id: t for t in learning.suite.tasks}
        self.seeds = {tid: task_seed(self.scenario.seed, tid) for tid in learning.learned}
        self.base_keys = {tid: self.store.key(self.tasks[tid], learning.backbone, cfg, self.seeds[tid])
                          for tid in learning.learned}
        for tid, key in self.base_keys.items():
            self.results[key] = learning.learned[tid]
        self._decoded: dict[str, SharePackage] = {}

    def teacher(self) -> "RunTeacher":
        """A fresh teacher for one run (its record of lessons starts empty)."""
        return RunTeacher(self)

    def package(self, key: str) -> SharePackage:
        """The decoded package of the result under `key` (decoded once)."""
        if key not in self._decoded:
            self._decoded[key] = SharePackage.from_bytes(self.results[key].package)
        return self._decoded[key]

    def lesson(self, task_id: int, bank: dict[int, str]) -> tuple[str, LearnResult, list, int]:
        """Learn `task_id` from `bank` (task -> package key): (key, result, matches, matching MACs)."""
        learning, cfg = self.learning, self.scenario.learner
        task, seed = self.tasks[task_id], self.seeds[task_id]
        packages = {tid: self.package(key) for tid, key in bank.items()}
        matches, match_macs = find_matches(task, packages, cfg, learning.backbone, learning.features, seed)
        if not matches:
            return self.base_keys[task_id], learning.learned[task_id], [], match_macs
        used = [(m.row, bank[m.task_id], m.banked_row) for m in matches]
        blob = json.dumps([self.base_keys[task_id], "reuse", START_VERSION, cfg.reuse.model_dump(mode="json"), used])
        key = hashlib.sha256(blob.encode()).hexdigest()
        result = self.results.get(key) or self.store.get_key(key)
        if result is None:
            result = learn_task(task, learning.backbone, cfg, seed, learning.features,
                                start=head_start(matches, packages, cfg.reuse.train == "normalised"))
            self.store.put_key(key, result)
        self.results[key] = result
        return key, result, matches, match_macs


class RunTeacher:
    """sim.teacher.Teacher for one run: each task from the packages the agent's bank holds then."""

    def __init__(self, colearner: CoLearner) -> None:
        self.colearner = colearner
        self.packages: dict[int, str] = {}  # task -> key of its first lesson in this run
        self.record: list[dict[str, Any]] = []
        colearner.records.append(self.record)

    def __call__(self, agent: int, task: int, bank: frozenset[int]) -> Lesson:
        co = self.colearner
        known = {tid: self.packages[tid] for tid in sorted(bank) if tid in self.packages}
        key, result, matches, match_macs = co.lesson(task, known)
        self.packages.setdefault(task, key)
        decoupled = co.learning.learned[task]
        self.record.append({
            "agent": agent, "task": task, "classes": co.tasks[task].num_classes, "matched": len(matches),
            "matches": [[m.row, m.task_id, m.banked_row] for m in matches],
            "epochs": int(result.metrics.get("epochs", 0)), "epochs_decoupled": int(decoupled.metrics.get("epochs", 0)),
            "macs": result.total_macs + match_macs, "macs_decoupled": decoupled.total_macs, "match_macs": match_macs,
            "bank": len(known), "key": key, "wall_s": float(result.wall_s),
        })
        return Lesson(macs=result.total_macs + match_macs, wall_s=float(result.wall_s), key=key)


def learning_of_run(colearner: CoLearner | None, learning: Learning, result: SimResult) -> Learning:
    """The run's learning: each task's package as its first completed lesson in this run made it
    (the one lookup for evaluation, reports and timelines); the up-front learning when nothing was asked."""
    if colearner is None or not result.lessons:
        return learning
    done = completed(colearner, result)
    first: dict[int, str] = {}
    for (_, _, task, key), finished in zip(result.lessons, done):
        if finished:
            first.setdefault(task, key)
    for _, _, task, key in result.lessons:  # interrupted and never learned again: in no bank, kept for lookups
        first.setdefault(task, key)
    learned = {tid: colearner.results[first[tid]] if tid in first else r for tid, r in learning.learned.items()}
    signature = tuple(sorted(first.items()))
    return replace(learning, learned=learned, _evaluations=colearner.evaluations.setdefault(signature, {}))


def completed(colearner: CoLearner, result: SimResult) -> list[bool]:
    """Whether each of the run's lessons ran to its end: False for one its agent crashed during
    (the crash at or after its start and before start + its simulated seconds, the engine's rule:
    wall_s under timing "wall", else MACs / the agent's rate)."""
    wanted = [(agent, task, key) for _, agent, task, key in result.lessons]
    record = next((r for r in reversed(colearner.records)
                   if [(x["agent"], x["task"], x["key"]) for x in r] == wanted), None)
    if record is None:  # a result this co-learner did not teach: nothing to tell lessons apart by
        return [True] * len(wanted)
    crashes: dict[int, list[float]] = {}
    for event in result.recorder.incidents:
        if event.kind == "crashed":
            crashes.setdefault(event.agent, []).append(float(event.time))
    rates, timing = colearner.scenario.agents.rates(), colearner.scenario.timing
    out = []
    for (start, agent, _, _), row in zip(result.lessons, record):
        seconds = row["wall_s"] if timing == "wall" else row["macs"] / rates[agent]
        out.append(not any(start <= c < start + seconds for c in crashes.get(agent, ())))
    return out


def reuse_section(teacher: RunTeacher, result: SimResult) -> dict[str, Any]:
    """results.json's `reuse`: what reuse matched and saved in this run, in total and per lesson.
    Totals count the lessons that ran to their end (what the engine charged); a lesson a crash
    interrupted is listed with `completed: false`."""
    # the engine logs each lesson right after the teacher made it: the two lists are in one order
    done = completed(teacher.colearner, result)
    rows = [{"start_s": float(lesson[0]), **{k: v for k, v in r.items() if k not in ("key", "wall_s")},
             "completed": finished} for lesson, r, finished in zip(result.lessons, teacher.record, done)]
    charged = [r for r in rows if r["completed"]]
    reused = [r for r in charged if r["matched"]]
    total = lambda k, rs=charged: int(sum(r[k] for r in rs))  # noqa: E731
    return {
        "match": teacher.colearner.scenario.learner.reuse.match,
        "lessons": len(charged),
        "interrupted": len(rows) - len(charged),
        "tasks_reused": len(reused),
        "classes": total("classes"),
        "classes_matched": total("matched"),
        "macs": total("macs"),
        "macs_decoupled": total("macs_decoupled"),
        "macs_saved": total("macs_decoupled") - total("macs"),
        "match_macs": total("match_macs"),
        "epochs": total("epochs"),
        "epochs_decoupled": total("epochs_decoupled"),
        "epochs_saved": total("epochs_decoupled") - total("epochs"),
        "epochs_reused_tasks": total("epochs", reused),
        "epochs_decoupled_reused_tasks": total("epochs_decoupled", reused),
        "per_lesson": rows,
    }


# results.json's scalar reuse metrics (in sweeps, studies and `compare`), from its `reuse` section.
REUSE_METRICS = {"reuse_tasks": "tasks_reused", "reuse_epochs_saved": "epochs_saved", "reuse_macs_saved": "macs_saved"}


def reuse_metrics(section: dict[str, Any]) -> dict[str, int]:
    """The run's scalar reuse metrics: tasks whose learning started from banked rows, head epochs
    and counted teacher MACs (matching charged) saved against the decoupled learning."""
    return {name: int(section[key]) for name, key in REUSE_METRICS.items()}
