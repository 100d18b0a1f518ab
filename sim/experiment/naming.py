"""Folder names of runs: what a scenario (or study) `name` may be, and the distinct directory that
`--set` / `--seed` / `--alpha` overrides give a run, so that a variant never overwrites the run of
the file itself. Pure: no file system access, no imports from the rest of the project."""

from __future__ import annotations

import hashlib
import re

# A name is one folder under the output root: it cannot climb out of it ('..', '/', an absolute
# path), hide ('.x'), or hold characters a shell or another file system trips on.
NAME_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
NAME_RULE = (f"a plain folder name matching {NAME_PATTERN} (letters, digits, '_', '.', '-'; "
             "no '/', no leading '.'), since it names runs/<name>")
_NAME = re.compile(NAME_PATTERN)

# Overrides that change where or what is written, not what is simulated: they stay out of the name
# (`--set output.dir=X` is the folder itself; `--set name=foo` renames the run).
_NOT_IN_NAME = ("name", "output")
_SAFE = re.compile(r"[^A-Za-z0-9_.,=-]+")  # what may stay in a folder name as typed
MAX_SUFFIX = 80  # characters of overrides kept readable; longer ones are cut and hashed
HASH_CHARS = 8


def check_name(value: str) -> str:
    """`value` when it can name a run folder; ValueError saying the allowed pattern (the caller
    names the file, field and value, as pydantic's errors do)."""
    if not _NAME.fullmatch(value):
        raise ValueError(f"must be {NAME_RULE}")
    return value


def override_suffix(overrides: list[str] | tuple[str, ...]) -> str:
    """The part of a folder name that says which overrides made the run ('' for none that change
    the simulation): '+key=value' each, filesystem-safe, with a short hash of the overrides as
    typed where characters were replaced or the text was cut, so two different overrides never
    share a folder and the same overrides always get the same one."""
    items = [_canonical(item) for item in overrides]
    items = [item for item in items if item.partition("=")[0].split(".")[0] not in _NOT_IN_NAME]
    if not items:
        return ""
    keys = [item.partition("=")[0] for item in items]
    if not any(a == b or b.startswith(a + ".") for i, a in enumerate(keys) for j, b in enumerate(keys) if i != j):
        items.sort()  # independent keys: the order they were given in changes nothing
    readable = "+" + "+".join(_SAFE.sub("_", "".join(item.split())).strip("_") for item in items)
    exact = "+" + "+".join(items)
    if readable == exact and len(readable) <= MAX_SUFFIX:
        return readable
    digest = hashlib.sha256("\n".join(items).encode()).hexdigest()[:HASH_CHARS]
    return f"{readable[:MAX_SUFFIX].rstrip('_+,.=-')}~{digest}"


def override_label(overrides: list[str] | tuple[str, ...]) -> str:
    """The overrides for a title or a table: 'agents.count=10, seed=3' ('' for none)."""
    return ", ".join(_canonical(item) for item in overrides)


def titled(data: dict) -> str:
    """The scenario name a figure or table shows, with the overrides that made the run:
    'ring_51 (agents.count=10)'."""
    extra = override_label(data.get("overrides") or [])
    return f"{data.get('scenario', '?')} ({extra})" if extra else str(data.get("scenario", "?"))


def number(x: float) -> str:
    """A number as an override value: '1000' for 1000.0, the shortest exact text otherwise."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else repr(float(x))


def _canonical(item: str) -> str:
    """'key=value' with the space around the key and the value stripped (as `--set` reads it)."""
    key, _, value = item.partition("=")
    return f"{key.strip()}={value.strip()}"
