"""The study file: its schema, loading, and the expansion of axes, `zip` groups and seeds into cells.

A study names a base scenario, optional overrides for every cell (`set`), axes (a scenario field
path -> the values it takes; axes combine as a full grid), `zip` groups (several fields that move
together) and the root seeds of the repetitions. Every value is checked against the scenario
schema before anything runs, so a typo is refused naming the study file, the axis and the value.
"""

from __future__ import annotations

import difflib
import itertools
import json
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.errors import ScenarioError
from sim.experiment.loading import SHIPPED_DIR, load_scenario, parse_yaml, read_text, resolve_scenario_path
from sim.experiment.scenario import Scenario
from sim.schema_errors import format_errors

# Fields a study may not vary: the cell's folder is the study's, and seeds have their own list.
NOT_AN_AXIS = {"name": "the study names its cells", "seed": "list root seeds under `seeds:`",
               "output": "a cell's run directory is set by the study"}


class StudyError(ScenarioError):
    """A study file is missing or invalid; the message names the file, the field or axis and the value."""


class StudyFile(BaseModel):
    """What a study file holds (YAML, validated like a scenario: no unknown keys)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=100)
    base: str  # a scenario file relative to the study file, or a shipped scenario's name
    set: dict[str, Any] = {}  # overrides applied to every cell, field path -> value
    axes: dict[str, list[Any]] = {}  # field path -> values (full grid)
    zip: list[dict[str, list[Any]]] = []  # groups of fields whose values move together
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        if value in (".", "..") or any(c in value for c in "/\\\0"):
            raise ValueError("name must be a plain folder name (no '/', '\\', or '..')")
        return value

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        if any(s < 0 for s in seeds):
            raise ValueError(f"seeds must be non-negative integers, got {seeds}")
        twice = sorted({s for s in seeds if seeds.count(s) > 1})
        if twice:
            raise ValueError(f"seed {', '.join(map(str, twice))} is listed twice; list each seed once")
        return seeds


@dataclass(frozen=True)
class Dimension:
    """One dimension of the grid: an axis (one field) or a zip group (several fields, same length)."""

    fields: tuple[str, ...]
    points: tuple[tuple[Any, ...], ...]  # one tuple of values (one per field) per point


@dataclass
class Study:
    """A loaded study: its file, its base scenario file, and the grid's dimensions."""

    path: Path
    spec: StudyFile
    base_path: Path
    dimensions: list[Dimension]
    notes: list[str] = dataclasses.field(default_factory=list)  # warnings of resolving its values (fields a kind dropped)

    @property
    def axis_fields(self) -> list[str]:
        """Every varied field path, in grid order (the columns of study.csv before `seed`)."""
        return [f for d in self.dimensions for f in d.fields]

    def points(self) -> list[dict[str, Any]]:
        """Every combination of axis values (seeds excluded), in grid order."""
        combos = itertools.product(*(d.points for d in self.dimensions))
        return [{f: v for d, p in zip(self.dimensions, combo) for f, v in zip(d.fields, p)} for combo in combos]

    def resolved(self) -> dict[str, Any]:
        """The study as study.json records it: the file's fields plus the base scenario's path."""
        return {**self.spec.model_dump(mode="json"), "base_path": str(self.base_path), "study_path": str(self.path)}


SHIPPED_STUDIES = SHIPPED_DIR / "studies"


def shipped_studies() -> list[str]:
    """Names of the studies shipped in scenarios/studies/ (`skill-sim study NAME` finds them)."""
    return sorted(p.stem for p in SHIPPED_STUDIES.glob("*.yaml"))


def resolve_study_path(path: str | Path) -> Path:
    """The study file `path` names: a file that exists as given, else a shipped study named
    `tiny_grid`, `tiny_grid.yaml` or `scenarios/studies/tiny_grid.yaml`, from any directory."""
    given = Path(path)
    if given.is_file():
        return given
    if not given.is_absolute() and given.parent in (Path("."), Path("scenarios/studies")) \
            and given.suffix in ("", ".yaml") and given.stem in shipped_studies():
        return SHIPPED_STUDIES / f"{given.stem}.yaml"
    near = difflib.get_close_matches(given.stem, shipped_studies(), n=1)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    raise StudyError(f"{given}: no such study file.{hint} Pass a path to a study .yaml file or a shipped study's "
                     f"name: {', '.join(shipped_studies())}")


def load_study(path: str | Path) -> Study:
    """Read and validate a study file (schema, base scenario, every axis value); raise StudyError."""
    path = resolve_study_path(path)
    try:
        raw = parse_yaml(read_text(path))
    except yaml.YAMLError as exc:
        raise StudyError(f"{path}: not valid YAML: {exc}") from None
    if raw is None:
        raise StudyError(f"{path}: empty study file; write name, base, axes and seeds "
                         "(e.g. start from a copy of scenarios/studies/tiny_grid.yaml)")
    if not isinstance(raw, dict):
        raise StudyError(f"{path}: a study file is a mapping with name, base, axes and seeds; "
                         f"got {type(raw).__name__}")
    if _looks_like_scenario(raw):
        raise StudyError(f"{path}: a scenario, not a study; run it with `skill-sim run {path}`, or write a study "
                         f"that names it as its base (name, base: {path.name}, axes, seeds; e.g. "
                         "scenarios/studies/tiny_grid.yaml)")
    try:
        spec = StudyFile.model_validate(raw)
    except ValidationError as exc:
        raise StudyError(f"{path}: invalid study:\n  " + "\n  ".join(format_errors(exc.errors(), raw, StudyFile))) from None
    base_path = _base_path(path, spec.base)
    load_scenario(base_path)  # the base alone must be a valid scenario (its own error names its file)
    study = Study(path, spec, base_path, _dimensions(path, spec))
    check_values(study)  # every axis value alone (each cell is checked when the study expands)
    return study


def is_study_file(path: str | Path) -> bool:
    """Whether `path` is a study file rather than a scenario: a YAML mapping with more of a study's
    own keys (base, set, axes, zip, seeds) than of a scenario's, or the name of a shipped study that
    is no shipped scenario's (`validate` takes either)."""
    path = Path(path)
    if not path.is_file():
        try:
            resolve_scenario_path(path)
            return False
        except ScenarioError:
            pass
        try:
            path = resolve_study_path(path)
        except StudyError:
            return False
    try:
        raw = parse_yaml(read_text(path))
    except (yaml.YAMLError, ScenarioError):
        return False  # the scenario loader says what is wrong with the file
    return isinstance(raw, dict) and _counts(raw)[0] > _counts(raw)[1]


def _looks_like_scenario(raw: dict[str, Any]) -> bool:
    """More of a scenario's keys than of a study's own (a scenario passed to `study`)."""
    own, scenario = _counts(raw)
    return scenario > own


def _counts(raw: dict[str, Any]) -> tuple[int, int]:
    """How many of a mapping's keys only a study has (base, set, axes, zip, seeds), and only a scenario."""
    keys = set(raw)
    return (len(keys & (set(StudyFile.model_fields) - set(Scenario.model_fields))),
            len(keys & (set(Scenario.model_fields) - set(StudyFile.model_fields))))


def override_text(field: str, value: Any) -> str:
    """A `--set` item for one field (the value as JSON, which YAML reads back unchanged)."""
    return f"{field}={json.dumps(value)}"


def resolve(study: Study, values: dict[str, Any], seed: int | None, source: str,
            notes: list[str] | None = None) -> Scenario:
    """The scenario of one combination: base file, then the study's `set`, the axis values, the seed;
    `notes` receives the loader's warnings."""
    items = [override_text(f, v) for f, v in study.spec.set.items()]
    items += [override_text(f, v) for f, v in values.items()]
    if seed is not None:
        items.append(f"seed={seed}")
    try:
        return load_scenario(study.base_path, items, notes=notes)
    except ScenarioError as exc:
        detail = str(exc).removeprefix(f"{study.base_path}: ")
        raise StudyError(f"{source}: {detail}") from None


def check_values(study: Study) -> None:
    """Refuse, before anything runs, an axis value its field rejects, naming file, axis and value."""
    notes: list[str] = []
    resolve(study, {}, None, f"{study.path}: set", notes)
    for dim in study.dimensions:
        where = "axis" if len(dim.fields) == 1 else "zip group"
        for point in dim.points:
            values = dict(zip(dim.fields, point))
            resolve(study, values, None, f"{study.path}: {where} {describe(values)}", notes)
    study.notes = list(dict.fromkeys(notes))


def describe(values: dict[str, Any], seed: int | None = None) -> str:
    """`field = value, ...` of a combination (and its seed), for messages."""
    parts = [f"{f} = {_text(v)}" for f, v in values.items()]
    if seed is not None:
        parts.append(f"seed = {seed}")
    return ", ".join(parts) or "(no axes)"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _base_path(study_path: Path, base: str) -> Path:
    """The base scenario: a path relative to the study file, else a shipped scenario's name."""
    candidate = (study_path.parent / base)
    if candidate.is_file():
        return candidate.resolve()
    try:
        return resolve_scenario_path(base)
    except ScenarioError:
        raise StudyError(f"{study_path}: base = {base!r}: no such scenario file (looked for {candidate}); "
                         "name a scenario file relative to the study file, or a shipped scenario") from None


def _dimensions(path: Path, spec: StudyFile) -> list[Dimension]:
    """The grid's dimensions: each axis, then each zip group; refuses empty, repeated or clashing fields."""
    seen: set[str] = set()
    dims: list[Dimension] = []

    def claim(field: str, where: str) -> None:
        top = field.split(".")[0]
        if top in NOT_AN_AXIS:
            raise StudyError(f"{path}: {where} {field!r}: not an axis ({NOT_AN_AXIS[top]})")
        if field in seen:
            raise StudyError(f"{path}: {where} {field!r}: this field is varied twice; vary it in one place")
        if field in spec.set:
            raise StudyError(f"{path}: {where} {field!r}: also fixed under `set`; keep one")
        seen.add(field)

    for field, values in spec.axes.items():
        claim(field, "axis")
        _check_list(path, f"axis {field!r}", values)
        dims.append(Dimension((field,), tuple((v,) for v in values)))
    for i, group in enumerate(spec.zip):
        if not group:
            raise StudyError(f"{path}: zip[{i}]: an empty group; list two or more fields with equally long value lists")
        lengths = {field: len(values) for field, values in group.items()}
        if len(set(lengths.values())) > 1:
            sizes = ", ".join(f"{f}: {n}" for f, n in lengths.items())
            raise StudyError(f"{path}: zip[{i}]: the fields of a zip group move together, so their lists need "
                             f"the same length; got {sizes}")
        for field, values in group.items():
            claim(field, f"zip[{i}] field")
        points = tuple(zip(*group.values()))
        _check_list(path, f"zip[{i}]", points)
        dims.append(Dimension(tuple(group), points))
    return dims


def _check_list(path: Path, where: str, values: Any) -> None:
    if not values:
        raise StudyError(f"{path}: {where}: no values; list at least one")
    keys = [yaml.safe_dump(v) for v in values]
    twice = sorted({k.strip() for k in keys if keys.count(k) > 1})
    if twice:
        raise StudyError(f"{path}: {where}: value {', '.join(twice)} is listed twice; list each value once")
