"""Whole-file I/O: atomic writes (an interrupted run never leaves a half-written cache entry or
result) and content digests."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
from pathlib import Path

# Temp files are named `.<name>.<host>.<pid>.<random>.tmp`: whoever finds one left over can tell
# whether its writer is still alive (agents.cache.leftovers) before removing it.
TMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9-]{1,32})\.(?P<pid>\d+)\.[0-9a-f]{12}\.tmp$")


def host_tag() -> str:
    """This machine's host name as it appears in temp and claim files (letters, digits, '-'; 32 at most)."""
    return (re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host")[:32]


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file beside `path`, flush it to disk, then rename it over `path` (atomic on POSIX).

    The temp file is created with mode 0666 less the umask, like any file `open` creates
    (tempfile.mkstemp would make every result 0600, unreadable to the group the umask allows).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new, uniquely named hidden file next to `path` (naming this host and process), opened for
    writing with the umask applied."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.with_name(f".{path.name}.{host_tag()}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # a name already taken (48 random bits): draw another
            continue


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks (large checkpoints and tables stay out of memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
