"""pydantic's validation errors as the lines a user reads: field path, the value, what is allowed.

pydantic reports a union by trying every member: a value that fits none gives one error per member,
with the member's name in the path ('literal[...]', 'float', 'AgentSample', 'gmmc'). Here the member
the value was meant for (a mapping means a section, a list a list, a scalar a scalar) keeps its
errors and the others are dropped; where none fits, one line lists what the field takes. Member
names never reach the path. The one formatter of the project: scenarios (sim.experiment.loading),
studies (sim.experiment.study.spec) and the settings given to `sim.simulate`.
"""

from __future__ import annotations

import difflib
import re
import typing
from typing import Any

from pydantic import BaseModel

_MISSING = object()
_SCALARS = {"float": "a number", "int": "a whole number", "bool": "true or false", "str": "text", "none": "null"}
_SECTION_TYPES = ("model_type", "model_attributes_type", "dataclass_type")
_BOOL_TYPES = ("bool_type", "bool_parsing")
_WORDS = {"yes": True, "on": True, "true": True, "no": False, "off": False, "false": False}


def format_errors(errors: list[dict[str, Any]], raw: Any, root: type[BaseModel]) -> list[str]:
    """One line per problem the user made, in pydantic's order, duplicates dropped."""
    schema = _Schema(root)
    kept = _pick_members(errors, raw, schema)
    kept = _drop_missing_explained_by_typos(kept, schema)
    lines: list[str] = []
    for err in kept:
        line = err["line"] if "line" in err else _line(err, schema)
        if line not in lines:
            lines.append(line)
    return lines


def short(value: Any, limit: int = 60) -> str:
    """A value as a message quotes it: YAML words for booleans and null, repr otherwise, cut to `limit`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Schema:
    """The models reachable from `root`: their class names and tags (union members) and field lookup."""

    def __init__(self, root: type[BaseModel]) -> None:
        self.root = root
        self.models = all_models(root)
        self.names = {m.__name__ for m in self.models}
        self.tags = {t for t in map(tag_of, self.models) if t is not None}

    def walk(self, loc: list[Any]) -> tuple[list[str], list[type[BaseModel]]]:
        """Each segment's role in `loc` ('field', 'index', 'tag': a discriminated member, 'member': a
        plain union's member) and the models (every union member) of the value it ends at."""
        models: list[type[BaseModel]] = [self.root]
        roles: list[str] = []
        for part in loc:
            if isinstance(part, int):
                roles.append("index")  # a list's items keep the list's models
            elif any(part in m.model_fields for m in models):
                roles.append("field")
                models = [x for m in models if part in m.model_fields
                          for x in models_in(m.model_fields[part].annotation)] or models
            elif part in self.tags or part in self.names:
                roles.append("tag" if part in self.tags else "member")
                models = [m for m in models if part in (m.__name__, tag_of(m))] or models
            else:
                roles.append("member" if _is_type_branch(part) else "field")  # else: an unknown key
        return roles, models

    def sections_at(self, loc: list[Any]) -> list[type[BaseModel]]:
        """The models (every union member) of the value at `loc`."""
        return self.walk(loc)[1]

    def keys_at(self, loc: list[Any]) -> list[str]:
        """Field names of the section at `loc`, all union members merged."""
        return sorted({k for m in self.sections_at(loc) for k in m.model_fields})


def sections_at(root: type[BaseModel], loc: list[Any]) -> list[type[BaseModel]]:
    """The models (every union member) that a section at `loc` below `root` may be."""
    return _Schema(root).sections_at(loc)


def _pick_members(errors: list[dict[str, Any]], raw: Any, schema: _Schema) -> list[dict[str, Any]]:
    """Per plain union: the errors of the member the value was written for, or one line saying what
    the field takes when it fits none."""
    groups: dict[tuple, list[tuple[str, dict[str, Any]]]] = {}
    order: list[Any] = []
    for err in errors:
        loc = list(err["loc"])
        roles = schema.walk(loc)[0]
        cut = next((i for i, role in enumerate(roles) if role == "member"), None)
        if cut is None:
            order.append(err)
            continue
        key = tuple(loc[:cut])
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((str(loc[cut]), err))
    out: list[dict[str, Any]] = []
    for item in order:
        if isinstance(item, dict):
            out.append(item)
            continue
        members = groups[item]
        roles = schema.walk(list(item))[0]
        value = _value_at(raw, [p for p, role in zip(item, roles) if role in ("field", "index")])
        names = list(dict.fromkeys(name for name, _ in members))
        fitting = names if len(names) == 1 else [n for n in names if _fits(n, value, schema)]
        if len(fitting) == 1:  # the member meant (or the only one pydantic tried: a tagged union)
            out.extend(err for name, err in members if name == fitting[0])
            continue
        field = _field(list(item), schema)
        takes = " or ".join(_describe(n) for n in names)
        shown = f" = {short(value)}" if value is not _MISSING else ""
        out.append({"line": f"{field}{shown}: expected {takes}"})
    return out


def _drop_missing_explained_by_typos(errors: list[dict[str, Any]], schema: _Schema) -> list[dict[str, Any]]:
    """`{sampel: 2}` gives 'sampel: unknown key' and 'sample: Field required': the first says it all."""
    typos: set[tuple] = set()
    for err in errors:
        if err.get("type") == "extra_forbidden":
            loc = list(err["loc"])
            near = difflib.get_close_matches(str(loc[-1]), schema.keys_at(loc[:-1]), n=1)
            if near:
                typos.add((*loc[:-1], near[0]))
    return [e for e in errors if not (e.get("type") == "missing" and tuple(e["loc"]) in typos)]


def _line(err: dict[str, Any], schema: _Schema) -> str:
    """One error as `field = value: what is wrong and what is allowed`."""
    loc = list(err["loc"])
    field = _field(loc, schema)
    kind = err["type"]
    value = err.get("input", _MISSING)
    if kind == "extra_forbidden":
        allowed = schema.keys_at(loc[:-1])
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        return f"{field}: unknown key.{hint} Allowed here: {', '.join(allowed)}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _tag_line(err, field)
    if kind in _SECTION_TYPES and not isinstance(value, dict):
        return f"{field} = {short(value)}: {_section_hint(field, value, schema.sections_at(loc))}"
    if kind in _BOOL_TYPES:
        return f"{field} = {short(value)}: write true or false (yes, no, on, off, 1 and 0 are not booleans here)"
    msg = err["msg"].removeprefix("Value error, ")
    msg = msg if len(msg) <= 300 else msg[:297] + "..."
    if kind == "finite_number":
        msg += " (inf and nan are refused: where a field can mean 'never', it takes null)"
    if kind == "literal_error" and isinstance(value, str):
        near = difflib.get_close_matches(value, _quoted(err.get("ctx", {}).get("expected", "")), n=1)
        msg += f". Did you mean {near[0]!r}?" if near else ""
    if value is not _MISSING and kind != "missing" and not isinstance(value, dict):
        return f"{field} = {short(value)}: {msg}"
    return f"{field}: {msg}"


def _tag_line(err: dict[str, Any], field: str) -> str:
    """A discriminated union (mapper, gossip, assignment, workload) given an unknown or no kind."""
    ctx = err.get("ctx", {})
    key = ctx.get("discriminator", "'kind'").strip("'")
    allowed = _quoted(ctx.get("expected_tags", ""))
    listed = ", ".join(repr(t) for t in allowed)
    if err["type"] == "union_tag_not_found":
        return f"{field}: give its {key}, one of {listed}"
    tag = ctx.get("tag", "")
    near = difflib.get_close_matches(str(tag), allowed, n=1)
    hint = f" Did you mean {near[0]!r}?" if near else ""
    return f"{field}.{key} = {tag!r}: unknown {key}.{hint} Allowed: {listed}"


def _section_hint(field: str, value: Any, sections: list[type[BaseModel]]) -> str:
    """What to write where a section (a mapping of keys) was given a single value."""
    last = field.rsplit(".", 1)[-1]
    keys = sorted({k for m in sections for k in m.model_fields})
    said = value if isinstance(value, bool) else _WORDS.get(str(value).lower())
    tags = {tag_of(m): m for m in sections if tag_of(m) is not None}
    if said is not None and "enabled" in keys:  # `reuse: true`, `bb: yes`: the switch of the section
        example = f"{last}: {{enabled: {short(said)}}}"
    elif isinstance(value, str) and value in tags:  # `gossip: push_pull`, `mapper: mahalanobis`: a kind
        key = "protocol" if "protocol" in tags[value].model_fields else "kind"
        example = f"{last}: {{{key}: {value}}}"
    elif len(sections) > 1 and all(tag_of(m) for m in sections):
        key = "protocol" if "protocol" in sections[0].model_fields else "kind"
        example = f"{last}: {{{key}: {' | '.join(str(tag_of(m)) for m in sections)}, ...}}"
    else:
        first = next(iter(sections[0].model_fields), "key") if sections else "key"
        example = f"{last}: {{{first}: ...}}"
    return f"a section of keys, not a single value; write e.g. `{example}` (keys: {', '.join(keys)})"


def _fits(member: str, value: Any, schema: _Schema) -> bool:
    """Whether a union member is the one a value of this shape was meant for."""
    if value is _MISSING:
        return False
    if isinstance(value, dict):
        return member in schema.names or member.startswith("dict[")
    if isinstance(value, list):
        return member.startswith(("list[", "tuple[", "set["))
    return not (member in schema.names or member.startswith(("dict[", "list[", "tuple[", "set[")))


def _describe(member: str) -> str:
    """A union member in words: 'a number', "'all'", 'a section {sample}'..."""
    if member in _SCALARS:
        return _SCALARS[member]
    if member.startswith("literal["):
        return " or ".join(repr(v) for v in _quoted(member)) or member
    if member.startswith(("list[", "tuple[", "set[")):
        return "a list"
    if member.startswith("dict["):
        return "a mapping"
    return f"a section ({member})"


def _field(loc: list[Any], schema: _Schema) -> str:
    """The dotted field path, union member names left out."""
    roles = schema.walk(loc)[0]
    return ".".join(str(p) for p, role in zip(loc, roles) if role in ("field", "index")) or "(top level)"


def _value_at(raw: Any, loc: list[Any]) -> Any:
    node = raw
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return _MISSING
    return node


def _quoted(text: str) -> list[str]:
    """The quoted words of pydantic's lists ("'gmmc', 'mahalanobis'", "literal['all']")."""
    return re.findall(r"'([^']*)'", text)


def _is_type_branch(part: Any) -> bool:
    """pydantic names the member of a plain union it tried ('float', 'list[float]', "literal['all']")."""
    return isinstance(part, str) and (part in _SCALARS or bool(re.match(r"^[a-z-]+\[", part)))


def tag_of(model: type[BaseModel]) -> str | None:
    """The value of a union member's `kind` (or `protocol`) field, the tag that selects it."""
    for name in ("kind", "protocol"):
        field = model.model_fields.get(name)
        if field is not None and isinstance(field.default, str):
            return field.default
    return None


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models inside a field's annotation (through unions, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(models_in(arg))
    return found


def all_models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every model reachable from `root`'s fields."""
    seen: list[type[BaseModel]] = []
    stack = [root]
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            stack.extend(models_in(field.annotation))
    return seen
