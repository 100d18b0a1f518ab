"""Reading scenario files: safe YAML, `--set` overrides, and errors that name file, field and fix."""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError
from sim.experiment.scenario import Scenario
from sim.schema_errors import all_models as _all_models  # noqa: F401  (tests walk the schema)
from sim.schema_errors import format_errors, sections_at, short
from sim.schema_errors import models_in as _models_in
from sim.schema_errors import tag_of as _tag_of


# Beyond these, a value is nonsense (or an attack on the parser): refused, naming the field.
MAX_DEPTH = 32  # nesting of sections and lists
MAX_TEXT = 4096  # characters of one string (the longest path Linux takes)


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice (PyYAML would silently keep the last one)."""


class _Loader(yaml.SafeLoader):
    """Safe YAML, plus YAML 1.2 floats: PyYAML reads `1e3` or `5.0e6` as strings, users mean numbers;
    and a key given twice in one mapping is an error naming the key and both lines."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping, after checking that no key appears twice in it (`<<` merges may override)."""
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first:
                raise DuplicateKeyError(f"line {line}: duplicate key {_short(key)} (first on line {first[key]}); keep one")
            first[key] = line
        return super().construct_mapping(node, deep=deep)


# YAML 1.2 booleans: only true / false (any case). PyYAML's YAML 1.1 also reads yes / no / on / off
# as booleans, so `events_csv: yes` would pass the strict schema; here such words stay strings.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str) -> Any:
    """Parse YAML safely (no arbitrary objects), reading 1e3-style numbers as floats."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except RecursionError:
        raise yaml.YAMLError(f"nested too deeply (a scenario needs at most {MAX_DEPTH} levels)") from None


def read_text(path: Path) -> str:
    """A scenario file's text; ScenarioError naming the file when it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{path}: not a text file (byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8); "
            "a scenario is YAML text saved as UTF-8"
        ) from None


def load_scenario(path: str | Path, overrides: list[str] | tuple[str, ...] = (),
                  notes: list[str] | None = None) -> Scenario:
    """Read, override and validate a scenario file; raise ScenarioError with a readable message.
    `notes` receives a warning for each field an override of a `kind` dropped (see switch_kind)."""
    path = resolve_scenario_path(path)
    try:
        raw = parse_yaml(read_text(path))
    except yaml.YAMLError as exc:
        tabs = " (YAML indents with spaces, never tabs)" if "'\\t'" in str(exc) else ""
        raise ScenarioError(f"{path}: not valid YAML{tabs}: {exc}") from None
    if raw is None:
        raise ScenarioError(
            f"{path}: empty scenario file (it would run every default: 51 agents, 102 tasks); "
            "write the sections you mean, e.g. start from a copy of scenarios/tiny.yaml (`skill-sim validate tiny` prints it with every default)"
        )
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}")
    switches: list[tuple[tuple[str, ...], Any]] = []
    given: set[tuple[str, ...]] = set()
    for item in overrides:
        parts = tuple(item.partition("=")[0].strip().split("."))
        before = _value_at(raw, parts)
        apply_override(raw, item, source=str(path))
        given.update(_paths(parts, _value_at(raw, parts)))
        if parts[-1] in ("kind", "protocol") and before != _value_at(raw, parts):
            switches.append((parts, before))
    for parts, before in switches:
        dropped = switch_kind(raw, parts, before, given, source=str(path))
        if dropped and notes is not None:
            notes.append(dropped)
    _resolve_relative_paths(raw, path.parent)
    try:
        return validate_scenario(raw, source=str(path))
    except ScenarioError as exc:
        if not overrides:
            raise
        given_here = " ".join(f"--set {item if len(item) <= 80 else item[:77] + '...'}"  # the bad value
                              for item in overrides)  # may be one of these (long ones cut, as values are)
        raise ScenarioError(f"{exc}\n  (the file as changed by {given_here})") from None


def validate_scenario(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a raw mapping into a Scenario, translating pydantic's errors into one clear message."""
    problem = check_values(raw)
    if problem:
        raise ScenarioError(f"{source}: invalid scenario:\n  {problem}")
    fill_default_tags(raw, Scenario)
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        lines = format_errors(exc.errors(), raw, Scenario)
        raise ScenarioError(f"{source}: invalid scenario:\n  " + "\n  ".join(lines)) from None


def fill_default_tags(raw: dict[str, Any], model: type[BaseModel]) -> None:
    """Give a section that names no kind (`learner: {mapper: {k: 7}}`, or `--set learner.mapper.k=7`
    on a file without a mapper) the kind of its default, as every other omitted field gets its default."""
    for name, field in model.model_fields.items():
        value = raw.get(name)
        if not isinstance(value, dict):
            continue
        tag = field.discriminator if isinstance(field.discriminator, str) else None
        if tag is not None and tag not in value:
            default = field.get_default(call_default_factory=True)
            if isinstance(default, BaseModel) and hasattr(default, tag):
                value[tag] = getattr(default, tag)
        members = _models_in(field.annotation)
        if tag is None and len(members) == 1 and _tag_of(members[0]) is not None:  # an optional section
            # of one kind (workload: its default is None): it takes that kind
            key = "kind" if "kind" in members[0].model_fields else "protocol"
            value.setdefault(key, _tag_of(members[0]))
        for member in _models_in(field.annotation):
            if tag is None or _tag_of(member) == value.get(tag):
                fill_default_tags(value, member)


def switch_kind(raw: dict[str, Any], parts: tuple[str, ...], before: Any, given: set[tuple[str, ...]],
                source: str) -> str | None:
    """After an override changed a section's `kind` (or gossip's `protocol`), drop the fields the file
    gave for the old kind that the new one does not have (`--set learner.mapper.kind=mahalanobis` on
    a file with `mapper: {kind: gmmc, k: 5}` drops k), and say so; fields an override gave stay, so
    that a mistake there is still refused. Returns the warning, or None when nothing was dropped."""
    section = _value_at(raw, parts[:-1])
    if not isinstance(section, dict):
        return None
    tag = section.get(parts[-1])
    models = [m for m in sections_at(Scenario, list(parts[:-1])) if _tag_of(m) == tag]
    if len(models) != 1:  # an unknown kind: the schema's error lists the kinds there are
        return None
    dropped = {k: v for k, v in section.items() if k not in models[0].model_fields and (*parts[:-1], k) not in given}
    if not dropped:
        return None
    for key in dropped:
        del section[key]
    where = ".".join(parts[:-1])
    old = f" for {before!r}" if isinstance(before, str) else ""
    fields = ", ".join(f"{k}: {_short(v)}" for k, v in dropped.items())
    return (f"{where}.{parts[-1]}={tag}: dropped {fields} (given in {source}{old}; {tag!r} has no such field). "
            f"To give {where} other fields, set it whole, e.g. --set '{where}={{{parts[-1]}: {tag}}}'")


def _value_at(raw: Any, parts: tuple[str, ...]) -> Any:
    """The value at a dotted path of a raw mapping, or None where there is none."""
    node = raw
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _paths(parts: tuple[str, ...], value: Any) -> set[tuple[str, ...]]:
    """The path an override set and, for a mapping value, every path inside it."""
    found = {parts}
    if isinstance(value, dict):
        for key, inner in value.items():
            found |= _paths((*parts, str(key)), inner)
    return found


def apply_override(raw: dict[str, Any], item: str, source: str = "--set") -> None:
    """Apply one `key.path=value` override (value parsed as YAML) to a raw scenario mapping."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"--set {_short(item)}: expected key.path=value, e.g. --set agents.count=10")
    try:
        value = parse_yaml(text)
    except DuplicateKeyError as exc:
        raise ScenarioError(f"--set {_short(key)}: {exc}") from None
    except yaml.YAMLError as exc:
        if "nested too deeply" in str(exc):
            raise ScenarioError(f"--set {_short(key)}: the value is {exc}") from None
        value = text  # not YAML: the text itself (e.g. a name with a colon)
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ScenarioError(f"--set {_short(key)}: {part!r} is not a section (it holds {_short(child)})")
        node = child
    node[parts[-1]] = value


def check_values(raw: Any, field: str = "") -> str | None:
    """The first value no scenario field can take (nan, nesting past MAX_DEPTH, text past MAX_TEXT),
    as one line naming its field; None when there is none. Runs before the schema, so it also
    covers free-form mappings (topology.params, link distributions)."""
    stack: list[tuple[str, Any, int]] = [(field, raw, 0)]
    while stack:
        where, value, depth = stack.pop()
        name = where or "(top level)"
        if depth > MAX_DEPTH:
            return f"{name}: nested more than {MAX_DEPTH} levels deep; no field takes that"
        if isinstance(value, float) and math.isnan(value):
            return f"{name} = nan: not a number; give a number"
        if isinstance(value, str) and len(value) > MAX_TEXT:
            return f"{name} = {_short(value)}: {len(value)} characters; no field takes more than {MAX_TEXT}"
        if isinstance(value, dict):
            stack.extend((f"{where}.{k}" if where else str(k), v, depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}.{i}", v, depth + 1) for i, v in enumerate(value))
    return None


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
    near = difflib.get_close_matches(given.stem, shipped_scenarios(), n=1) if given.parent in (Path("."), Path("scenarios")) else []
    hint = f" Did you mean {near[0]!r}?" if near else ""
    raise ScenarioError(f"{given}: no such scenario file.{hint} Pass a path to a .yaml file or a shipped scenario's "
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


_short = short
