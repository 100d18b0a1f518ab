"""study.csv (tidy: one row per cell and seed) and summary.csv (per combination of axes, seeds
pooled: mean, sample standard deviation and a 95 % confidence interval from Student's t)."""

from __future__ import annotations

import math
from typing import Any, Iterable

from scipy import stats

from sim.experiment import results as files

# Every scalar metric of results.json that a study compares (survivors: agents alive at the end;
# accuracy_auc: the population's mean accuracy over the checkpoints' span, empty without `evaluation`;
# reuse_*: tasks reused, head epochs and counted MACs saved, empty with reuse off: sim.experiment.cosim).
METRICS = (
    "makespan_s", "single_agent_s", "speedup", "efficiency", "speedup_bound", "alpha_cost",
    "teacher_macs", "student_macs", "bytes_sent", "bytes_delivered", "bytes_lost",
    "accuracy", "mapper_accuracy", "oracle_accuracy", "accuracy_auc", "tasks_lost", "coverage_final", "pairs_missing",
    "reuse_tasks", "reuse_epochs_saved", "reuse_macs_saved", "survivors", "agents", "tasks", "alpha",
)
STATS = ("mean", "std", "ci95_low", "ci95_high")


def metrics_of(results: dict[str, Any]) -> dict[str, Any]:
    """The study's scalar metrics of one cell's results.json."""
    row = {m: results.get(m) for m in METRICS if m != "survivors"}
    row["survivors"] = sum(1 for a in results.get("per_agent", []) if a.get("alive"))
    return {m: row[m] for m in METRICS}


def study_columns(axes: list[str]) -> list[str]:
    """Columns of study.csv: the cell, each axis by its field path, seed, the metrics, run_dir, status."""
    return ["cell", *axes, "seed", *(m for m in METRICS if m not in axes), "run_dir", "status", "message"]


def study_rows(axes: list[str], records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cell record (pending cells have status `pending` and no metrics)."""
    rows = []
    for r in records:
        row = {"cell": r["name"], **{a: r["values"].get(a) for a in axes}, "seed": r["seed"]}
        row.update({m: (r.get("metrics") or {}).get(m) for m in METRICS if m not in axes})
        row.update(run_dir=r.get("run_dir", ""), status=r["status"], message=r.get("message", ""))
        rows.append(row)
    return rows


def summarise(values: list[float]) -> dict[str, float | None]:
    """Mean, sample std (n - 1) and the 95 % t interval mean +- t(0.975, n - 1) s / sqrt(n) of the
    finite values; std and interval are None below two values."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return {"mean": None, "std": None, "ci95_low": None, "ci95_high": None}
    mean = sum(xs) / n
    if n == 1:
        return {"mean": mean, "std": None, "ci95_low": None, "ci95_high": None}
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "ci95_low": mean - half, "ci95_high": mean + half}


def summary_columns(axes: list[str]) -> list[str]:
    """Columns of summary.csv: each axis, the number of seeds that finished, then metric_stat."""
    return [*axes, "seeds", *(f"{m}_{s}" for m in METRICS if m not in axes for s in STATS)]


def summary_rows(axes: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per combination of axis values (in first-seen order), pooling the finished seeds."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    firsts: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(repr(row[a]) for a in axes)
        groups.setdefault(key, [])
        firsts.setdefault(key, row)
        if row["status"] == "ok":
            groups[key].append(row)
    out = []
    for key, members in groups.items():
        entry: dict[str, Any] = {a: firsts[key][a] for a in axes}
        entry["seeds"] = len(members)
        for m in METRICS:
            if m in axes:
                continue
            for stat, value in summarise([r.get(m) for r in members]).items():
                entry[f"{m}_{stat}"] = value
        out.append(entry)
    return out


def write_tables(study_dir: Any, axes: list[str], records: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Write study.csv and summary.csv; return their rows."""
    rows = study_rows(axes, records)
    cols = study_columns(axes)
    files.write_csv(study_dir / "study.csv", cols, ([_cell(r.get(c)) for c in cols] for r in rows))
    summary = summary_rows(axes, rows)
    scols = summary_columns(axes)
    files.write_csv(study_dir / "summary.csv", scols, ([_cell(r.get(c)) for c in scols] for r in summary))
    return rows, summary


def _cell(value: Any) -> Any:
    """A CSV cell: None empty, nested values as JSON, numbers as repr (round-trips exactly)."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, sort_keys=True)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return value
