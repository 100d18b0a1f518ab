"""Reading scenario files: safe YAML, `--set` overrides, and errors that name file, field and fix."""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError
from sim.experiment.scenario import Scenario


class _Loader(yaml.SafeLoader):
    """Safe YAML, plus YAML 1.2 floats: PyYAML reads `1e3` or `5.0e6` as strings, users mean numbers."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str) -> Any:
    """Parse YAML safely (no arbitrary objects), reading 1e3-style numbers as floats."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario:
    """Read, override and validate a scenario file; raise ScenarioError with a readable message."""
    path = resolve_scenario_path(path)
    try:
        raw = parse_yaml(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}")
    for item in overrides:
        apply_override(raw, item, source=str(path))
    _resolve_relative_paths(raw, path.parent)
    return validate_scenario(raw, source=str(path))


def validate_scenario(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a raw mapping into a Scenario, translating pydantic's errors into one clear message."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        lines = [format_error(err, raw) for err in exc.errors()]
        raise ScenarioError(f"{source}: invalid scenario:\n  " + "\n  ".join(lines)) from None


def apply_override(raw: dict[str, Any], item: str, source: str = "--set") -> None:
    """Apply one `key.path=value` override (value parsed as YAML) to a raw scenario mapping."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"--set {item!r}: expected key.path=value, e.g. --set agents.count=10")
    try:
        value = parse_yaml(text)
    except yaml.YAMLError:
        value = text
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ScenarioError(f"--set {item!r}: {part!r} is not a section (it holds {child!r})")
        node = child
    node[parts[-1]] = value


def format_error(err: dict[str, Any], raw: dict[str, Any]) -> str:
    """One line per pydantic error: field path, bad value, what is allowed, and a typo suggestion."""
    loc = [str(p) for p in err["loc"] if not _is_union_tag(p)]
    field = ".".join(loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys([str(p) for p in err["loc"][:-1]])
        near = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        return f"{field}: unknown key.{hint} Allowed here: {', '.join(allowed)}"
    msg = err["msg"].removeprefix("Value error, ")
    if "input" in err and err["type"] != "missing" and not isinstance(err["input"], dict):
        return f"{field} = {_short(err['input'])}: {msg}"
    return f"{field}: {msg}"


SHIPPED_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped in the repository's scenarios/ folder (`skill-sim run NAME` finds them)."""
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))


def resolve_scenario_path(path: str | Path) -> Path:
    """The scenario file that `path` names: a file that exists as given, else a shipped scenario named
    `tiny`, `tiny.yaml` or `scenarios/tiny.yaml` (so that the README's commands work from any directory)."""
    given = Path(path)
    if given.is_file():
        return given
    if given.is_dir():
        raise ScenarioError(f"{given}: is a folder, not a scenario file; pass a .yaml file or a shipped "
                            f"scenario's name ({', '.join(shipped_scenarios())})")
    if not given.is_absolute() and given.parent in (Path("."), Path("scenarios")) \
            and given.suffix in ("", ".yaml") and given.stem in shipped_scenarios():
        return SHIPPED_DIR / f"{given.stem}.yaml"
    raise ScenarioError(f"{given}: no such scenario file; pass a path to a .yaml file or a shipped scenario's "
                        f"name: {', '.join(shipped_scenarios())}")


def scenario_description(path: Path) -> str:
    """The comment lines at the top of a scenario file, joined: what the scenario is for."""
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(x for x in lines if x)


def _resolve_relative_paths(raw: dict[str, Any], base: Path) -> None:
    """Make file paths inside the scenario relative to the scenario file, not the working dir."""
    for section, key in (("topology", "path"), ("tasks", "path")):
        value = raw.get(section, {}).get(key) if isinstance(raw.get(section), dict) else None
        if isinstance(value, str) and not Path(value).is_absolute():
            candidate = base / value
            if candidate.exists():
                raw[section][key] = str(candidate)


def _is_union_tag(part: Any) -> bool:
    """pydantic puts the chosen union member ('flood', 'gmmc', ...) in error paths; drop it."""
    return isinstance(part, str) and part in _union_tags()


def _union_tags() -> set[str]:
    tags = set()
    for model in _all_models(Scenario):
        for name, field in model.model_fields.items():
            if name in ("kind", "protocol") and isinstance(field.default, str):
                tags.add(field.default)
    return tags


def _allowed_keys(loc: list[str]) -> list[str]:
    """Field names of the model found at `loc` in the schema (all union members merged)."""
    models: list[type[BaseModel]] = [Scenario]
    for part in loc:
        if _is_union_tag(part):  # keep only the union member that the tag names
            models = [m for m in models if part in (_tag_of(m), None)] or models
            continue
        nxt: list[type[BaseModel]] = []
        for model in models:
            field = model.model_fields.get(part)
            if field is not None:
                nxt.extend(_models_in(field.annotation))
        # list indices ("0") keep the models of the list's items
        models = nxt or models
    keys: set[str] = set()
    for model in models:
        keys.update(model.model_fields)
    return sorted(keys)


def _tag_of(model: type[BaseModel]) -> str | None:
    for name in ("kind", "protocol"):
        field = model.model_fields.get(name)
        if field is not None and isinstance(field.default, str):
            return field.default
    return None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _all_models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    stack = [root]
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            stack.extend(_models_in(field.annotation))
    return seen


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
