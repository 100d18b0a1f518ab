"""Run directories: results.json, the resolved scenario, events.csv and sweep tables, written
atomically so that an interrupted run never leaves a half-written file behind."""

from __future__ import annotations

import csv
import io
import json
import platform
from pathlib import Path
from typing import Any, Iterable

import yaml

from agents import atomic

from sim.errors import SimError

RESULTS = "results.json"
SCENARIO = "scenario.yaml"
EVENTS = "events.csv"
GRAPHML = "topology.graphml"
SWEEP_JSON = "sweep.json"
SWEEP_CSV = "sweep.csv"
SWEEP_COLUMNS = ("alpha", "speedup", "efficiency", "makespan_s", "alpha_cost", "bytes_sent", "speedup_bound")


def write_atomic(path: Path, text: str) -> None:
    """Write text atomically (temp file beside `path`, then rename): never a half-written result."""
    atomic.write_atomic(path, text.encode())


def write_json(path: Path, data: Any) -> None:
    """Atomically write JSON (indent 2, keys in insertion order)."""
    write_atomic(path, json.dumps(data, indent=2, default=_jsonable) + "\n")


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """Atomically write a CSV table with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(columns))
    writer.writerows(rows)
    write_atomic(path, buffer.getvalue())


def write_scenario(path: Path, resolved: dict[str, Any]) -> None:
    """Save the fully resolved scenario (every default filled in) so the run describes itself."""
    write_atomic(path, yaml.safe_dump(json.loads(json.dumps(resolved, default=_jsonable)), sort_keys=False))


def read_results(run_dir: Path) -> dict[str, Any]:
    """Load a finished run's results.json (or sweep.json), with a clear error when absent."""
    for name in (RESULTS, SWEEP_JSON):
        path = run_dir / name
        if path.is_file():
            try:
                return json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise SimError(f"{path}: not valid JSON ({exc}); rerun the scenario to rewrite it") from None
    raise SimError(f"{run_dir}: no {RESULTS} or {SWEEP_JSON} here; pass the --out folder of a finished run")


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
