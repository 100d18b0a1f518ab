"""A study's cells: each combination of axis values and a seed, resolved into a scenario through the
same override machinery as `--set`, named for its run directory and keyed by its resolved scenario."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sim.experiment.scenario import Scenario
from sim.experiment.study.spec import Study, StudyError, describe, resolve

# Bump when what a cell computes changes in a way its resolved scenario does not show.
CELL_VERSION = 1
MAX_DIR_NAME = 120  # characters of a cell's folder name before it is shortened with a hash


@dataclass(frozen=True)
class Cell:
    """One run of the study: its axis values, its seed, its folder name and its resolved scenario."""

    values: dict[str, Any]
    seed: int
    name: str
    scenario: Scenario
    key: str  # sha256 of the resolved scenario: the same key means the same result

    @property
    def label(self) -> str:
        """A short human description, e.g. `topology.family=ring alpha=1000 seed=0`."""
        return " ".join([*(f"{f}={_text(v)}" for f, v in self.values.items()), f"seed={self.seed}"])


def scenario_key(scenario: Scenario) -> str:
    """Content key of a cell's result: every resolved field except where it is written."""
    data = scenario.model_dump(mode="json", exclude={"output"})
    blob = json.dumps([CELL_VERSION, data], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def expand(study: Study) -> list[Cell]:
    """Every cell of the study (grid order, seeds innermost), resolved; names made unique."""
    cells = []
    used: set[str] = set()
    for values in study.points():
        for seed in study.spec.seeds:
            where = f"{study.path}: cell {describe(values, seed)}"
            scenario = resolve(study, values, seed, where)
            name = _dir_name(values, seed)
            if name in used:  # values that differ only in characters a folder name drops
                name = f"{name[:MAX_DIR_NAME - 9]}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"
            used.add(name)
            cells.append(Cell(values, seed, name, scenario, scenario_key(scenario)))
    keys: dict[str, Cell] = {}
    for cell in cells:
        if cell.key in keys:
            raise StudyError(f"{study.path}: cells {keys[cell.key].label!r} and {cell.label!r} resolve to the same "
                             "scenario (an axis value that changes nothing?); vary fields that the scenario uses")
        keys[cell.key] = cell
    return cells


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _dir_name(values: dict[str, Any], seed: int) -> str:
    """A cell's folder: `field=value` pairs joined by `__`, seed last, in characters any filesystem takes."""
    parts = [f"{field}={_slug(value)}" for field, value in values.items()] + [f"seed={seed}"]
    name = "__".join(parts)
    if len(name) > MAX_DIR_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:MAX_DIR_NAME - 9]}-{digest}"
    return name


def _slug(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, (dict, list)):
        text = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:8]
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9._+-]", "-", text)[:40] or "-"
