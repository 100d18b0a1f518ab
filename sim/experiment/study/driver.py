"""Running a study: expand its cells, learn each distinct task group once (as executor jobs), run the
cells not finished before, store each as it finishes, then write the tables, study.json and figures."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sim.errors import SimError
from sim.experiment import results as files
from sim.experiment import rundir
from sim.experiment.study import cells as cellmod
from sim.experiment.study import store as stores
from sim.experiment.study import tables, work
from sim.experiment.study.executors.base import Executor
from sim.experiment.study.spec import Study

STUDY_JSON = "study.json"
NO_EXECUTOR = "none (every cell had finished before)"  # study.json's executor when nothing ran
Progress = Callable[..., None]


def _quiet(name: str, /, **fields: Any) -> None:
    """Default progress callback: ignore everything."""


@dataclass
class Outcome:
    """What a study run did: every cell's record, how many ran now, and which failed."""

    records: list[dict[str, Any]]
    executed: int
    reused: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 when every cell finished; 2 when a cell failed on bad input; else 1 when any failed."""
        if any(r["status"] == "bad-input" for r in self.failed):
            return 2
        return 1 if self.failed else 0


def check_study_dir(out: Path) -> Path:
    """The study directory to write, refused when it holds something that is not a study."""
    out = Path(out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise SimError(f"--out {out}: is a file, not a folder; pass a new folder or a study directory")
    if out.is_dir() and any(out.iterdir()) and not ((out / STUDY_JSON).is_file() or (out / stores.STORE).is_dir()):
        raise SimError(f"--out {out}: holds files that are not a skill-sim study; pass a new or empty folder, "
                       "or a study directory to resume")
    return out


def run_study(study: Study, out: Path, executor: Executor | Callable[[], Executor], *,
              cache_dir: Path | None = None, progress: Progress = _quiet) -> Outcome:
    """Run every cell of `study` not finished in `out` before; write the tables, study.json and figures.
    `executor` may be a factory, called only when a cell is left to run (its executor is closed here):
    a finished study then starts no process pool or Ray instance, and only rewrites its outputs."""
    out = check_study_dir(out)
    all_cells = cellmod.expand(study)
    store = stores.CellStore(out)
    todo = [c for c in all_cells if not store.done(c.key)]
    with contextlib.ExitStack() as stack:
        if todo and not isinstance(executor, Executor):
            executor = stack.enter_context(executor())  # closed (aborted on an error) when the study ends
        return _run_cells(study, out, executor if todo else None, all_cells, todo, store, cache_dir, progress)


def _run_cells(study: Study, out: Path, executor: Executor | None, all_cells: list[cellmod.Cell],
               todo: list[cellmod.Cell], store: stores.CellStore, cache_dir: Path | None, progress: Progress) -> Outcome:
    """Learn what the unfinished cells `todo` need, run them on `executor`, and write the outputs
    (no executor: nothing is left to run, and the outputs are only rewritten)."""
    def described() -> str:
        return executor.describe() if executor is not None else NO_EXECUTOR

    progress("study_started", total=len(all_cells), reused=len(all_cells) - len(todo), executor=described())
    cache = str(Path(cache_dir).expanduser().resolve()) if cache_dir else None
    records: dict[str, dict[str, Any]] = {}
    executed = 0
    try:
        if executor is not None:
            entries = _learn(todo, executor, cache, progress)
            jobs = [work.CellJob(c.name, c.key, work.learning_group(c.scenario), c.scenario.resolved(),
                                 cache, str(out / stores.EVALUATIONS)) for c in todo]
            by_key = {c.key: c for c in todo}
            for output in executor.cells(jobs, entries if executor.ships_learning else None):
                cell = by_key[output.key]
                record = _save_cell(out, store, cell, output)
                records[cell.key] = record
                executed += 1
                progress("cell_done", label=cell.label, status=record["status"], message=record["message"],
                         seconds=sum(v for k, v in output.timings.items() if k.endswith("_s")))
            executor.finish()  # the workers stop while the tables and figures are written
    finally:  # an interrupted study still gets its tables (unfinished cells as `pending`)
        final = [records.get(c.key) or store.get(c.key) or _pending(c) for c in all_cells]
        summary = write_outputs(out, study, all_cells, final, described())
    failed = [r for r in final if r["status"] not in ("ok", "pending")]
    progress("study_done", failed=len(failed))
    return Outcome(final, executed, len(all_cells) - len(todo), failed, summary)


def _learn(todo: list[cellmod.Cell], executor: Executor, cache: str | None, progress: Progress) -> dict[str, list]:
    """Learn every task of every group the pending cells need, once, before any cell runs."""
    groups = {}
    for cell in todo:
        groups.setdefault(work.learning_group(cell.scenario), cell.scenario)
    jobs = [work.LearnJob(group, sc.tasks.model_dump(mode="json"), sc.learner.model_dump(mode="json"), sc.seed,
                          cache, executor.ships_learning, offset=offset, stride=executor.workers)
            for group, sc in groups.items() for offset in range(executor.workers)]
    progress("learning_started", jobs=len(jobs), groups=len(groups))
    entries: dict[str, list] = {group: [] for group in groups}
    for output in executor.learn(jobs):
        entries[output.group].extend(output.entries)
        for message in output.warnings:  # bad cache entries a worker discarded and recomputed
            progress("warning", message=message)
        progress("learning_job_done", tasks=output.tasks, fresh=output.fresh)
    if executor.ships_learning:  # the driver's cache receives what the workers learned
        _install(entries, cache)
    progress("learning_done")
    return entries


def _install(entries: dict[str, list], cache: str | None) -> None:
    from agents.features import FeatureCache
    from agents.learner import ResultStore

    store = ResultStore(FeatureCache(Path(cache) if cache else None).root / "results")
    for found in entries.values():
        for key, result in found:
            if store.get_key(key) is None:
                store.put_key(key, result)


def _save_cell(out: Path, store: stores.CellStore, cell: cellmod.Cell, output: work.CellOutput) -> dict[str, Any]:
    """Swap the cell's run directory in (when it finished), then record it: never a record without its run."""
    run_dir = f"{stores.CELLS}/{cell.name}"
    if output.status == "ok":
        with rundir.staged(out / run_dir) as stage:
            work.install_tree(output.files, stage)
    record = {
        "key": cell.key, "name": cell.name, "values": cell.values, "seed": cell.seed,
        "status": output.status, "message": output.message,
        "run_dir": run_dir if output.status == "ok" else "",
        "metrics": tables.metrics_of(output.results) if output.results else None,
        "timings": output.timings, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    store.put(record)
    return record


def _pending(cell: cellmod.Cell) -> dict[str, Any]:
    return {"key": cell.key, "name": cell.name, "values": cell.values, "seed": cell.seed, "status": "pending",
            "message": "not run yet (interrupted); rerun the study to resume", "run_dir": "", "metrics": None}


def write_outputs(out: Path, study: Study, all_cells: list[cellmod.Cell], records: list[dict[str, Any]],
                  executor: str) -> dict[str, Any]:
    """study.csv, summary.csv, study.json and the figures, from the cells' records."""
    counts = {c.scenario.agents.count for c in all_cells}
    cells = [{"name": c.name, "key": c.key, "values": c.values, "seed": c.seed} for c in all_cells]
    data = {"study": study.resolved(), "axes": study.axis_fields, "executor": executor,
            "agents": counts.pop() if len(counts) == 1 else None, "cells": cells}
    return _write(out, data, records)


def rerender(out: Path) -> dict[str, Any]:
    """Rewrite the tables, study.json and figures of a study directory from its stored cell records."""
    out = Path(out)
    try:
        data = json.loads((out / STUDY_JSON).read_text())
        cells = data["cells"]
        store = stores.CellStore(out)
        records = [store.get(c["key"]) or {**c, "status": "pending", "run_dir": "", "metrics": None,
                                             "message": "not run yet; rerun the study"} for c in cells]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SimError(f"{out / STUDY_JSON}: not a readable skill-sim study ({type(exc).__name__}: {exc}); "
                       "rerun the study to rewrite it") from None
    return _write(out, data, records)


def _write(out: Path, data: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    axes = data["axes"]
    _, summary = tables.write_tables(out, axes, records)
    data = {**data, "cells": [{k: c[k] for k in ("name", "key", "values", "seed")} |
                              {"status": r["status"], "run_dir": r.get("run_dir", ""), "message": r.get("message", "")}
                              for c, r in zip(data["cells"], records)]}
    data["counts"] = dict(Counter(r["status"] for r in records))
    data["timings"] = _timings(records)
    data["versions"] = files.versions()
    files.write_json(out / STUDY_JSON, data)  # complete before the figures (drawn from it again by `report`)
    from sim.experiment.study import figures

    data["figures"], data["crossings"] = figures.render(out, axes, summary, agents=data.get("agents"))
    files.write_json(out / STUDY_JSON, data)
    return data


def _timings(records: list[dict[str, Any]]) -> dict[str, float]:
    """Mean per-cell seconds of each phase over the cells that finished (resolution, simulation, ...)."""
    done = [r["timings"] for r in records if r["status"] == "ok" and r.get("timings")]
    keys = ("resolution_s", "simulation_s", "evaluation_s", "writing_s")
    return {k: sum(t.get(k, 0.0) for t in done) / len(done) for k in keys} if done else {}
