"""Temp files that dead writers left in the cache: a process killed mid-write (SIGKILL, a lost machine)
never renames its `.tmp` into place, and nothing else would ever remove it.

A temp file names its writer's host and pid (agents.atomic). It is a leftover when its writer is
known dead (this host, no such process) or when it has not been written to for longer than a lease
(a writer on another host, or a name from before writers were named). A live writer's file is kept.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from agents.atomic import TMP_PATTERN, host_tag

# A temp file untouched this long is abandoned whoever wrote it: a live writer appends every few
# seconds, and a feature file of the largest task is written in well under an hour.
LEASE_S = 3600.0


@dataclass(frozen=True)
class Leftover:
    """One abandoned temp file and why it is taken for abandoned."""

    path: Path
    bytes: int
    why: str


def find(root: Path, lease_s: float = LEASE_S, now: float | None = None) -> list[Leftover]:
    """Every abandoned temp file under `root` (none when `root` does not exist)."""
    root = Path(root)
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    found = []
    for path in sorted(root.rglob(".*.tmp")):
        try:
            stat = path.stat()
        except FileNotFoundError:  # its writer finished (renamed it) while we looked
            continue
        why = _abandoned(path.name, now - stat.st_mtime, lease_s)
        if why:
            found.append(Leftover(path, stat.st_size, why))
    return found


def sweep(root: Path, lease_s: float = LEASE_S, now: float | None = None) -> list[Leftover]:
    """Remove every abandoned temp file under `root`; return what was removed."""
    removed = []
    for leftover in find(root, lease_s, now):
        try:
            leftover.path.unlink()
        except FileNotFoundError:  # another sweeper was first
            continue
        removed.append(leftover)
    return removed


def _abandoned(name: str, age_s: float, lease_s: float) -> str:
    """Why a temp file of this name and age is abandoned, or "" while its writer may be alive."""
    match = TMP_PATTERN.match(name)
    if match and match["host"] == host_tag():
        pid = int(match["pid"])
        if not pid_alive(pid):
            return f"its writer (pid {pid} on this host) is gone"
    if age_s > lease_s:
        return f"untouched for {age_s:.0f} s (lease {lease_s:.0f} s)"
    return ""


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a reused id counts as alive)."""
    if pid <= 0:  # not a process id (0 and negatives address process groups)
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return False
    return True
