"""Readers behind `skill-sim compare`'s KINDS table: each turns one result folder into the entries
it contributes (a label and plain data). A run or a sweep is one entry; a study is one entry per
line of its summary.csv (seeds pooled, means): with alpha an axis, one curve over alpha per value
of its other axes; without, one point per combination of its axes."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Callable

from sim.errors import SimError
from sim.experiment import results as files
from sim.experiment.naming import titled

# The files a study directory holds (as sim/experiment/study writes them; named here so that compare
# does not import the study's runner).
STUDY_JSON, SUMMARY_CSV, STUDY_CSV = "study.json", "summary.csv", "study.csv"
ALPHA = "alpha"
# The metrics a study entry carries from summary.csv (their `_mean` column), as results.json names them.
MEANS = ("speedup", "efficiency", "makespan_s", "speedup_bound", "alpha_cost", "bytes_sent", "accuracy", "accuracy_auc",
         "reuse_tasks", "reuse_epochs_saved", "reuse_macs_saved", "tasks_lost", "coverage_final", "survivors", "agents", "tasks", "alpha")
BANDS = ("speedup", "efficiency")  # drawn with their 95 % interval where seeds allow one
REWRITE = "rerun the study (skill-sim study FILE --out DIR resumes; finished cells are kept) to rewrite it"

Entry = tuple[str, dict[str, Any]]  # (label, data)
Note = Callable[[str], None] | None


def read_result(folder: Path, note: Note = None) -> list[Entry]:
    """A run's results.json or a sweep's sweep.json (checked against its manifest): one entry."""
    data = files.read_results(folder, note=note)
    return [(titled(data), data)]


def read_study(folder: Path, note: Note = None) -> list[Entry]:
    """A study directory's summary.csv, named and described by its study.json: its entries."""
    folder = Path(folder)
    study = _study_json(folder)
    axes, rows = _summary(folder / SUMMARY_CSV)
    name = str((study.get("study") or {}).get("name") or folder.name)
    done = [r for r in rows if r["seeds"] > 0]
    if not done:
        raise SimError(f"{folder / SUMMARY_CSV}: no combination of axes has a finished seed; {REWRITE}")
    others = [a for a in axes if a != ALPHA]
    described = _described(folder, study)
    entries: list[Entry] = []
    for fixed in _combos(done, others if ALPHA in axes else axes):
        members = [r for r in done if all(r["axes"][a] == v for a, v in fixed.items())]
        label = f"{name} · {', '.join(f'{a}={v}' for a, v in fixed.items())}" if fixed else name
        data = described(fixed)
        points = [_point(r) for r in members]
        if ALPHA in axes:
            data["rows"] = sorted(points, key=lambda p: p[ALPHA])
            data["agents"] = _one(p.get("agents") for p in points)
        else:
            data.update(points[0])
        data.update(scenario=name, study=name, axes=fixed, seeds=sorted({r["seeds"] for r in members}))
        data["agents"], data["tasks"] = _whole(data.get("agents")), _whole(data.get("tasks"))
        entries.append((label, data))
    return entries


def _study_json(folder: Path) -> dict[str, Any]:
    path = folder / STUDY_JSON
    if not path.is_file():
        raise SimError(f"{path}: missing, so {folder} is not a finished skill-sim study; {REWRITE}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimError(f"{path}: not valid JSON ({exc}); {REWRITE}") from None
    if not isinstance(data, dict) or not isinstance(data.get("axes"), list):
        raise SimError(f"{path}: not a skill-sim study.json (a JSON object with `axes`); {REWRITE}")
    return data


def _summary(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """summary.csv's axes (the columns before `seeds`) and rows: axis values as written, seeds as a
    count, each MEANS metric's `_mean` (and BANDS' interval) as a float or None."""
    if not path.is_file():
        raise SimError(f"{path}: missing; the study's per-combination table is needed to compare it; "
                       f"`skill-sim report {path.parent}` rewrites it")
    try:
        with open(path, newline="") as f:
            table = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SimError(f"{path}: not a readable CSV table ({exc}); `skill-sim report {path.parent}` rewrites it") from None
    header = table[0] if table else []
    needed = [f"{m}_mean" for m in ("speedup", "efficiency")]
    if "seeds" not in header or any(c not in header for c in needed):
        missing = ", ".join(c for c in ["seeds", *needed] if c not in header)
        raise SimError(f"{path}: not a study summary (no {missing} column in its header); "
                       f"`skill-sim report {path.parent}` rewrites it")
    axes = header[:header.index("seeds")]
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        if len(cells) != len(header):
            raise SimError(f"{path}: line {line} has {len(cells)} cells, the header {len(header)}; "
                           f"`skill-sim report {path.parent}` rewrites it")
        raw = dict(zip(header, cells))
        row: dict[str, Any] = {"axes": {a: raw[a] for a in axes}, "seeds": _number(path, line, "seeds", raw["seeds"])}
        for column, text in raw.items():
            if column.endswith(("_mean", "_ci95_low", "_ci95_high")):
                row[column] = _number(path, line, column, text)
        if ALPHA in axes:
            row[f"{ALPHA}_mean"] = _number(path, line, ALPHA, raw[ALPHA])
        rows.append(row)
    if ALPHA in axes and any(r[f"{ALPHA}_mean"] is None for r in rows):
        raise SimError(f"{path}: an empty alpha in the alpha column; `skill-sim report {path.parent}` rewrites it")
    return axes, rows


def _number(path: Path, line: int, column: str, text: str) -> Any:
    """A cell as a number (None when empty); SimError naming the file, line, column and value."""
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise SimError(f"{path}: line {line}, column {column}: {text!r} is not a number; "
                       f"`skill-sim report {path.parent}` rewrites it") from None
    return int(value) if column == "seeds" else value


def _point(row: dict[str, Any]) -> dict[str, Any]:
    """One summary row as the (alpha, speedup, efficiency, ...) point a run would give, with bands."""
    point = {m: row.get(f"{m}_mean") for m in MEANS}
    for m in BANDS:
        point[f"{m}_ci95"] = (row.get(f"{m}_ci95_low"), row.get(f"{m}_ci95_high"))
    point["seeds"] = row["seeds"]
    return point


def _combos(rows: list[dict[str, Any]], fields: list[str]) -> list[dict[str, str]]:
    """Each combination of `fields` values in the rows, in first-seen order ([{}] for no fields)."""
    seen: list[dict[str, str]] = []
    for r in rows:
        combo = {f: r["axes"][f] for f in fields}
        if combo not in seen:
            seen.append(combo)
    return seen


def _described(folder: Path, study: dict[str, Any]) -> Callable[[dict[str, str]], dict[str, Any]]:
    """Topology, tasks and protocol of a combination, from the results.json of its first finished
    cell (a study's cells are runs); None where no finished cell can be read."""
    cells = [c for c in study.get("cells") or [] if isinstance(c, dict) and c.get("status") == "ok" and c.get("run_dir")]

    def describe(fixed: dict[str, str]) -> dict[str, Any]:
        for c in cells:
            values = c.get("values") or {}
            if all(_text(values.get(a)) == v for a, v in fixed.items()):
                try:
                    results = json.loads((folder / c["run_dir"] / files.RESULTS).read_text())
                except (OSError, ValueError):
                    continue
                return {k: results.get(k) for k in ("topology", "tasks", "protocol")}
        return {"topology": fixed.get("topology.family"), "tasks": None, "protocol": None}

    return describe


def _text(value: Any) -> str:
    """An axis value as summary.csv writes it (nested values as JSON, floats as repr)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return repr(value) if isinstance(value, float) else str(value)


def _one(values: Any) -> Any:
    """The value all of them share, or None when they differ."""
    found = set(values)
    return found.pop() if len(found) == 1 else None


def _whole(x: Any) -> Any:
    return int(x) if isinstance(x, float) and math.isfinite(x) and x.is_integer() else x
