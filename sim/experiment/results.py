"""Run directories: results.json, the resolved scenario, events.csv and sweep tables, written
atomically so that an interrupted run never leaves a half-written file behind. JSON is strict:
NaN and +-inf are written as null (sim.experiment.rundir keeps a directory to one run)."""

from __future__ import annotations

import csv
import io
import json
import math
import platform
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from agents import atomic

from sim.errors import SimError
from sim.experiment import rundir

RESULTS = "results.json"
SCENARIO = "scenario.yaml"
EVENTS = "events.csv"
GRAPHML = "topology.graphml"
SWEEP_JSON = "sweep.json"
SWEEP_CSV = "sweep.csv"
# sweep.csv: the sweep's keys (the same on every row, to join sweeps and studies on), then one
# row per alpha; sweep.json holds the keys once and the columns in each of its rows.
SWEEP_KEYS = ("scenario", "topology", "agents", "protocol", "seed")
SWEEP_COLUMNS = ("alpha", "speedup", "efficiency", "makespan_s", "alpha_cost", "bytes_sent", "speedup_bound", "accuracy",
                 "accuracy_auc", "reuse_tasks", "reuse_epochs_saved", "reuse_macs_saved")


def write_atomic(path: Path, text: str) -> None:
    """Write text atomically (temp file beside `path`, then rename): never a half-written result."""
    atomic.write_atomic(path, text.encode())


def dumps(data: Any) -> str:
    """Strict JSON text (indent 2, keys in insertion order): NaN and +-inf become null, so any
    JSON reader accepts it (`allow_nan=False` would refuse what slipped through)."""
    return json.dumps(finite(data), indent=2, allow_nan=False)


def write_json(path: Path, data: Any) -> None:
    """Atomically write strict JSON (see `dumps`)."""
    write_atomic(path, dumps(data) + "\n")


def finite(value: Any) -> Any:
    """`value` as plain JSON data: numpy scalars and arrays, paths, tuples and sets converted,
    every non-finite float (NaN, inf, -inf) replaced by None."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return finite(_jsonable(value))


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """Atomically write a CSV table with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(columns))
    writer.writerows(rows)
    write_atomic(path, buffer.getvalue())


def write_scenario(path: Path, resolved: dict[str, Any]) -> None:
    """Save the fully resolved scenario (every default filled in) so the run describes itself
    (YAML: an infinite limit stays `.inf`, which YAML defines)."""
    write_atomic(path, yaml.safe_dump(json.loads(json.dumps(resolved, default=_jsonable)), sort_keys=False))


def read_results(run_dir: Path, note: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Load a finished run's results.json (or sweep.json) after checking that every file of the
    directory belongs to that run (rundir.verify); `note` hears about unchecked old directories."""
    run_dir = Path(run_dir)
    for name in (RESULTS, SWEEP_JSON):
        path = run_dir / name
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise SimError(f"{path}: not valid JSON ({exc}); rerun the scenario to rewrite it") from None
            if not isinstance(data, dict):
                raise SimError(f"{path}: not a skill-sim result (a JSON object); rerun the scenario to rewrite it")
            rundir.verify(run_dir, data, name, note)
            return data
    if not run_dir.is_dir():
        raise SimError(f"{run_dir}: no such folder; pass the folder a finished run, sweep or study printed as "
                       "'results in DIR'")
    inside = sorted(p.parent for p in run_dir.glob(f"*/{RESULTS}"))
    hint = f" (it holds {len(inside)} run folder(s), e.g. {inside[0]}: pass one)" if inside else ""
    raise SimError(f"{run_dir}: no {RESULTS}, {SWEEP_JSON} or study.json here{hint}; pass the folder a finished run, "
                   "sweep or study printed as 'results in DIR'")


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape results, for the run's self-description."""
    import importlib.metadata as md

    found = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("skill-sim", "torch", "timm", "simpy", "networkx", "numpy", "scikit-learn"):
        try:
            found[name] = md.version(name)
        except md.PackageNotFoundError:
            found[name] = "absent"
    return found


def _jsonable(value: Any) -> Any:
    """Fallback for json.dumps: numpy scalars/arrays, paths and sets."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (Path,)):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
