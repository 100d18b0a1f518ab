"""Run directories that always belong to one run: built aside, swapped in whole, and checked
against their manifest (a run id plus each file's size and sha256) when read back.

A run or sweep is written into a fresh hidden folder beside its target and swapped in only when
complete (one atomic exchange where the OS offers it, else two renames that SIGINT / SIGTERM
cannot split); the previous run is removed only once the new one is in place. So an interrupt
at any point leaves the complete old run or the complete new one, never a mix.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from agents import atomic
from sim.errors import SimError

MANIFEST = "manifest.json"
# Files a manifest must list when present (a copy of one from another run is refused);
# plots are not listed: `report` redraws them from the data.
DATA_FILES = ("results.json", "scenario.yaml", "events.csv", "topology.graphml", "sweep.json", "sweep.csv",
              "curves.json", "curves.csv", "per_task.csv")
_MARKERS = ("results.json", "sweep.json", "curves.json", MANIFEST)  # any of these makes a folder a run directory
_UNLISTED = (".png",)


def check_target(target: Path) -> Path:
    """The resolved run directory to (re)write, refused early when it cannot be one: a file, or
    a folder with other things in it that a rerun would delete."""
    target = Path(target).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise SimError(f"--out {target}: is a file, not a folder; pass a new or empty folder, or a run directory")
    above = next((p for p in target.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise SimError(f"--out {target}: {above} is a file, so no folder can be made there; pass another path")
    if target.is_dir() and not _replaceable(target):
        raise SimError(f"--out {target}: holds files that are not a skill-sim run, and a run replaces its whole "
                       "directory; pass a new or empty folder, or a previous run directory")
    return target


def _replaceable(folder: Path) -> bool:
    """A folder a run may replace: one that holds a run (old or new), or only run files (a run
    interrupted before results.json, by a skill-sim without staging), or nothing."""
    if any((folder / m).is_file() for m in _MARKERS):
        return True
    return all(p.name in DATA_FILES and p.is_file() for p in folder.iterdir())


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """Yield a fresh folder beside `target` to write a run into; on success swap it in for
    `target` and remove the old run, on any exception or interrupt remove it instead."""
    target = check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    stage = _fresh_dir(target, "new")
    try:
        yield stage
        with _signals_deferred():  # a Ctrl-C here lands once the new run is in and the old one gone
            _swap_in(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)  # nothing left there once the swap is done
        raise


def write_manifest(run_dir: Path, run_id: str) -> None:
    """List every file of a run directory (sub-runs of a sweep included, plots excepted) with its
    size and sha256, under the run id that results.json / sweep.json also holds."""
    listed = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        name = path.relative_to(run_dir).as_posix()
        if name != MANIFEST and path.suffix not in _UNLISTED:
            listed[name] = {"bytes": path.stat().st_size, "sha256": atomic.file_sha256(path)}
    text = json.dumps({"run_id": run_id, "files": listed}, indent=2) + "\n"
    atomic.write_atomic(run_dir / MANIFEST, text.encode())


def verify(run_dir: Path, data: dict[str, Any], source: str, note: Callable[[str], None] | None = None) -> None:
    """Refuse a run directory whose files do not all belong to the run in `source` (results.json
    or sweep.json, already read as `data`); a directory written before manifests existed is
    accepted, with a note that it cannot be checked."""
    manifest_path = run_dir / MANIFEST
    fix = f"rerun the scenario with --out {run_dir} to rewrite the whole directory"
    if not manifest_path.is_file():
        if "run_id" in data:
            raise SimError(f"{manifest_path}: missing, so the files cannot be checked to belong to run "
                           f"{data['run_id']}; {fix}")
        if note is not None:
            note(f"{run_dir} has no {MANIFEST} (written by an older skill-sim): its files are not checked "
                 "to belong to one run")
        return
    try:
        manifest = json.loads(manifest_path.read_text())
        run_id, listed = manifest["run_id"], manifest["files"]
    except (ValueError, KeyError, TypeError):
        raise SimError(f"{manifest_path}: not a skill-sim manifest (unreadable or incomplete); {fix}") from None
    if data.get("run_id") != run_id:
        raise SimError(f"{run_dir / source}: from run {data.get('run_id')}, but {MANIFEST} lists run {run_id}: "
                       f"the directory mixes two runs; {fix}")
    for name, entry in listed.items():
        path = run_dir / name
        if not path.is_file():
            raise SimError(f"{path}: listed in {MANIFEST} of run {run_id} but missing; {fix}")
        if path.stat().st_size != entry.get("bytes") or atomic.file_sha256(path) != entry.get("sha256"):
            raise SimError(f"{path}: changed since run {run_id} wrote it (size or sha256 differs from "
                           f"{MANIFEST}): stale or from another run; {fix}")
    for path in sorted(run_dir.rglob("*")):
        name = path.relative_to(run_dir).as_posix()
        if path.name in DATA_FILES and path.is_file() and name not in listed:
            raise SimError(f"{path}: not part of run {run_id} ({MANIFEST} does not list it): stale or from "
                           f"another run; {fix}")


def _fresh_dir(target: Path, role: str) -> Path:
    """A new hidden folder beside `target` (mode 0777 less the umask, unlike mkdtemp's 0700), named
    with this process's pid and host so a later run can tell when its writer is gone."""
    while True:
        path = target.with_name(f".{target.name}.{role}-{secrets.token_hex(4)}-{os.getpid()}-{_host_key()}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _host_key() -> str:
    """8 hex digits naming this host (its hostname hashed, so the folder name stays plain)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _remove_stale(target: Path) -> None:
    """Remove the staging folders beside `target` left by a killed run (SIGKILL, power loss): only
    those whose pid is not alive on this host; a live run's, another host's, or one named without a
    pid (by a skill-sim before this one) is left alone. A stale old run is put back when `target` is missing."""
    pattern = re.compile(re.escape(f".{target.name}.") + r"(new|old)-[0-9a-f]{8}-(\d+)-([0-9a-f]{8})")
    for path in sorted(target.parent.iterdir()):
        found = pattern.fullmatch(path.name)
        if not found or found[3] != _host_key() or _alive(int(found[2])) or not path.is_dir():
            continue
        if found[1] == "old" and not target.exists():
            os.rename(path, target)  # killed between its two renames: the previous run is the only one
        else:
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _swap_in(stage: Path, target: Path) -> None:
    """Put the complete run in `stage` at `target`, then remove the run that was there, if any."""
    if not target.exists():
        os.rename(stage, target)
        return
    if _exchange(stage, target):
        shutil.rmtree(stage, ignore_errors=True)  # the old run now sits at the stage's name
        return
    old = _fresh_dir(target, "old")
    old.rmdir()
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)  # put the old run back
        raise
    shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT / SIGTERM until the block is done (main thread only), then deliver them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if handler is not None:
            previous[sig] = signal.signal(sig, lambda num, frame: caught.append(num))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in caught[:1]:
            signal.raise_signal(sig)
