"""What a cache directory holds, entry by entry, each checked as a read would check it; and pruning.

Layout: `features/<sha256 of key>.npy` + `.json` (agents.features), `results/<key>.pkg` + `.json`
(agents.learner), `evaluations/<sha256 of key>.eval` + `.json` (agents.cache.evaluations), `claims/<key>.<generation>.claim` (agents.cache.claims) and hidden `.tmp` files
of writers at work or dead (agents.cache.leftovers). Each entry is `sound`, `stale` (written before
seals, or a content file whose record never came: relearned quietly), `bad` (fails its check:
discarded on read), or, for claims and temp files, `live` (its holder or writer may be at work).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from agents.atomic import file_sha256
from agents.cache import integrity, leftovers
from agents.cache.claims import ClaimBoard

# kind -> (folder, content suffix): the kinds of sealed entries and where they live.
SEALED = {"features": ("features", ".npy"), "result": ("results", ".pkg"), "evaluation": ("evaluations", ".eval")}
KINDS = ("features", "result", "evaluation", "claim", "temp", "other")
NAMED_BY_KEY_DIGEST = ("features", "evaluation")  # file named by sha256(key); a result by its key itself


@dataclass
class Entry:
    """One cache entry: its kind, name, files, size, newest modification time and state."""

    kind: str
    name: str
    files: list[Path]
    bytes: int
    mtime: float
    state: str  # sound | stale | bad | live
    reason: str = ""


@dataclass
class Inventory:
    """Every entry under a cache root."""

    root: Path
    entries: list[Entry] = field(default_factory=list)

    def summary(self) -> dict:
        """Entries, bytes and states by kind, and the totals: what `skill-sim cache info` reports."""
        kinds = {}
        for kind in KINDS:
            mine = [e for e in self.entries if e.kind == kind]
            if mine or kind in ("features", "result"):
                kinds[kind] = {"entries": len(mine), "bytes": sum(e.bytes for e in mine),
                               **{s: sum(e.state == s for e in mine) for s in ("sound", "stale", "bad", "live")}}
        return {"location": str(self.root), "exists": self.root.is_dir(), "kinds": kinds,
                "entries": len(self.entries), "bytes": sum(e.bytes for e in self.entries),
                "bad": [{"kind": e.kind, "file": str(e.files[0]), "reason": e.reason}
                        for e in self.entries if e.state == "bad"]}


def scan(root: Path, now: float | None = None) -> Inventory:
    """Check every entry under `root` (reading each content file in full to verify its checksum)."""
    root = Path(root)
    inventory = Inventory(root)
    if not root.is_dir():
        return inventory
    now = time.time() if now is None else now
    seen: set[Path] = set()
    for kind, (folder, suffix) in SEALED.items():
        groups: dict[str, list[Path]] = {}
        for path in sorted((root / folder).glob("*")) if (root / folder).is_dir() else ():
            if path.is_file() and path.suffix in (suffix, ".json") and not path.name.startswith("."):
                groups.setdefault(path.stem, []).append(path)
        for name, files in groups.items():
            inventory.entries.append(_sealed_entry(kind, name, files, root / folder, suffix))
            seen.update(files)
    board = ClaimBoard(root)
    for path in board.held():
        state = board.state(path)
        if state != "gone":
            inventory.entries.append(_plain("claim", path, "live" if state == "live" else "stale"))
            seen.add(path)
    abandoned = {lo.path: lo.why for lo in leftovers.find(root, now=now)}
    for path in sorted(root.rglob(".*.tmp")):
        if path.is_file():
            inventory.entries.append(_plain("temp", path, "stale" if path in abandoned else "live",
                                            abandoned.get(path, "")))
            seen.add(path)
    for path in sorted(root.rglob("*")):
        if path.is_file() and path not in seen:
            inventory.entries.append(_plain("other", path, "sound"))
    return inventory


def select(inventory: Inventory, *, everything: bool = False, older_than_s: float | None = None,
           bad: bool = False, now: float | None = None) -> list[Entry]:
    """The entries a prune removes: abandoned temp files and stale claims always; with `everything`
    every sealed entry (features, results, evaluations); with `older_than_s` those untouched that long; with `bad` the
    bad and stale ones. Live claims and temp files (someone at work) and foreign files never."""
    now = time.time() if now is None else now
    chosen = []
    for entry in inventory.entries:
        if entry.kind in ("claim", "temp"):
            take = entry.state == "stale"
        elif entry.kind in SEALED:
            take = (everything or (older_than_s is not None and now - entry.mtime > older_than_s)
                    or (bad and entry.state in ("bad", "stale")))
        else:
            take = False
        if take:
            chosen.append(entry)
    return chosen


def remove(entries: list[Entry]) -> int:
    """Delete the entries' files; return the bytes freed."""
    freed = 0
    for entry in entries:
        for path in entry.files:
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:  # removed meanwhile (a concurrent prune or its own cache)
                continue
            freed += size
    return freed


def _sealed_entry(kind: str, name: str, files: list[Path], folder: Path, suffix: str) -> Entry:
    """A sealed entry (features, result, evaluation), checked: content against the record's seal, key digest against the name."""
    content, record_path = folder / f"{name}{suffix}", folder / f"{name}.json"
    files = sorted(files, key=lambda p: p.suffix == ".json")  # the content file first: the one named
    stats = [p.stat() for p in files]
    entry = Entry(kind, name, files, sum(s.st_size for s in stats), max(s.st_mtime for s in stats), "sound")
    if not record_path.exists():
        entry.state, entry.reason = "stale", "content without its record (an interrupted write)"
        return entry
    if not content.exists():
        entry.state, entry.reason = "bad", f"its {suffix} file is missing"
        return entry
    record = integrity.read_record(record_path)
    if isinstance(record, integrity.Unreadable):
        entry.state, entry.reason = "bad", f"its record is {record.why}"
        return entry
    key_digest = name if kind in NAMED_BY_KEY_DIGEST else integrity.sha256_hex(name)
    try:
        digest = file_sha256(content)
    except OSError as exc:
        entry.state, entry.reason = "bad", f"its content cannot be read ({exc})"
        return entry
    verdict = integrity.check(record, kind=kind, key=None, key_sha256=key_digest, content_sha256=digest,
                              content_bytes=content.stat().st_size)
    if verdict.state == "unsealed":
        entry.state, entry.reason = "stale", verdict.reason
    elif not verdict.sound:
        entry.state, entry.reason = "bad", verdict.reason
    return entry


def _plain(kind: str, path: Path, state: str, reason: str = "") -> Entry:
    try:
        stat = path.stat()
        size, mtime = stat.st_size, stat.st_mtime
    except FileNotFoundError:
        size, mtime = 0, 0.0
    return Entry(kind, path.name, [path], size, mtime, state, reason)


