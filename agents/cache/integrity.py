"""Seals on cache entries, checked on every read, so the cache never hands back something it did not store.

An entry is a content file (a feature array, a package) and a JSON record beside it. The record's
`integrity` field holds the sha256 and size of the content, the sha256 of the key (the inputs that
named the entry), the entry's kind, and a seal: the sha256 of all of that together with the rest of
the record. A flipped byte in the content (same size) breaks the content digest, an edited record
breaks the seal, and an entry copied under another name breaks the key digest. A bad entry is
reported (its file named), deleted and recomputed by its cache; an entry written before seals
existed is `unsealed`: recomputed quietly, like any stale entry.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

FIELD = "integrity"
VERSION = 1

# Where a cache reports a bad entry: a callable taking the message (default: a CacheWarning).
Report = Callable[[str], None]


class CacheWarning(UserWarning):
    """A cache entry failed its check and was discarded (it is recomputed)."""


def warn(message: str) -> None:
    """Default report: a Python warning of category CacheWarning."""
    warnings.warn(message, CacheWarning, stacklevel=3)


def sha256_hex(data: bytes | str) -> str:
    """Hex sha256 of bytes (or of a string's UTF-8)."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def seal(record: dict[str, Any], *, kind: str, key: str, content_sha256: str, content_bytes: int) -> dict[str, Any]:
    """`record` (JSON-ready) with its `integrity` field: digests of content and key, and the seal over all."""
    body = json.loads(json.dumps({k: v for k, v in record.items() if k != FIELD}))  # as it will read back
    info = {"version": VERSION, "kind": kind, "key_sha256": sha256_hex(key),
            "content_sha256": content_sha256, "content_bytes": int(content_bytes)}
    return {**body, FIELD: {**info, "seal": _seal(body, info)}}


def seal_bytes(record: dict[str, Any], *, kind: str, key: str, content: bytes) -> dict[str, Any]:
    """`seal` for content held in memory."""
    return seal(record, kind=kind, key=key, content_sha256=sha256_hex(content), content_bytes=len(content))


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one entry: sound, unsealed (written before seals: stale) or bad (why)."""

    state: Literal["sound", "unsealed", "bad"]
    reason: str = ""

    @property
    def sound(self) -> bool:
        """Whether the entry may be used."""
        return self.state == "sound"


SOUND = Verdict("sound")
UNSEALED = Verdict("unsealed", "no integrity record (written by an older skill-sim)")


def check(record: Any, *, kind: str, key: str | None, content_sha256: str, content_bytes: int,
          key_sha256: str | None = None) -> Verdict:
    """Check a record read back against its content's digest and size and the key expected: `key`
    itself, or only its digest `key_sha256` (what a listing can tell from a file name); neither skips it."""
    if not isinstance(record, dict):
        return Verdict("bad", "its record is not a JSON object")
    info = record.get(FIELD)
    if info is None:
        return UNSEALED
    fields = ("version", "kind", "key_sha256", "content_sha256", "content_bytes", "seal")
    if not isinstance(info, dict) or set(info) != set(fields):
        return Verdict("bad", "its integrity record is malformed")
    body = {k: v for k, v in record.items() if k != FIELD}
    if info["seal"] != _seal(body, {k: info[k] for k in fields if k != "seal"}):
        return Verdict("bad", "its record was altered after it was sealed")
    if info["kind"] != kind:
        return Verdict("bad", f"it is sealed as a {info['kind']!r} entry, not {kind!r}")
    expected_key = sha256_hex(key) if key is not None else key_sha256
    if expected_key is not None and info["key_sha256"] != expected_key:
        return Verdict("bad", "it was stored for other inputs (its key digest differs)")
    if info["content_bytes"] != content_bytes:
        return Verdict("bad", f"its content is {content_bytes} bytes, sealed at {info['content_bytes']}")
    if info["content_sha256"] != content_sha256:
        return Verdict("bad", "its content checksum does not match (same size: the bytes changed)")
    return SOUND


def check_bytes(record: Any, *, kind: str, key: str | None, content: bytes) -> Verdict:
    """`check` for content held in memory."""
    return check(record, kind=kind, key=key, content_sha256=sha256_hex(content), content_bytes=len(content))


def read_record(path: Path) -> Any:
    """The JSON record at `path`; None when absent; an `Unreadable` marker when present but not JSON."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return Unreadable(str(exc))
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return Unreadable("not valid JSON")


@dataclass(frozen=True)
class Unreadable:
    """A record file that exists but cannot be read or parsed."""

    why: str


def discard(paths: Iterable[Path], reason: str, report: Report) -> None:
    """Delete an entry's files and report it, naming the first file and why it was discarded."""
    paths = list(paths)
    for path in paths:
        path.unlink(missing_ok=True)
    report(f"cache entry {paths[0]} is bad: {reason}; discarded, recomputing it")


def _seal(body: dict[str, Any], info: dict[str, Any]) -> str:
    blob = json.dumps([body, info], sort_keys=True, separators=(",", ":"))
    return sha256_hex(blob)
