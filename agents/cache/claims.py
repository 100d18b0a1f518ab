"""Claims on learning jobs, so that processes sharing a cache split the tasks instead of each learning all.

A claim is a file `claims/<key>.<generation>.claim`, created with O_EXCL: of the processes that try,
exactly one gets it. Its holder touches it every `lease_s / 4` (a heartbeat thread) and deletes it
when done. A claim is stale when its holder is known dead (same host, no such process) or has not
touched it for `lease_s`; then the next generation's file is created with O_EXCL, so exactly one of
the processes taking over wins. Files are probed by generation (0, 1, ... up to the first missing
one) rather than listed, so a claim appearing during a directory listing cannot be missed; the
stale generations stay until the taker-over releases its own.

A claim only saves work: results are deterministic and written atomically, so two holders of one
task (a clock far off, a holder frozen past its lease) would write equal bytes. Holders re-check the
cache after claiming, since the task may have been finished in between.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Iterator

from agents.atomic import host_tag
from agents.cache.leftovers import pid_alive

# A holder touches its claim four times per lease; a lease is long enough to ride out a busy,
# oversubscribed machine and short enough that a dead worker's task is taken over soon.
LEASE_S = 120.0


class Claim:
    """A held claim: heartbeats while held; `release()` (or leaving a `with`) deletes it."""

    def __init__(self, path: Path, lease_s: float, below: list[Path] | None = None) -> None:
        self.path = path
        self._below = list(below or [])  # stale generations this claim took over
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, args=(lease_s / 4,), daemon=True,
                                      name=f"claim-heartbeat-{path.stem[:12]}")
        self._beat.start()

    def _heartbeat(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                os.utime(self.path)
            except FileNotFoundError:  # released, or removed by `cache prune`: nothing to keep alive
                return

    def release(self) -> None:
        """Stop the heartbeat and delete the claim file, then the stale generations it took over."""
        self._stop.set()
        self._beat.join()
        for path in [self.path, *reversed(self._below)]:
            path.unlink(missing_ok=True)

    def __enter__(self) -> "Claim":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ClaimBoard:
    """The claims of one cache directory (`root/claims/`)."""

    def __init__(self, root: Path, lease_s: float = LEASE_S) -> None:
        self.dir = Path(root) / "claims"
        self.lease_s = float(lease_s)

    def try_claim(self, key: str) -> Claim | None:
        """The claim on `key` if this process gets it now; None while another live holder has it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        top = None
        for generation, path in self._generations(key):
            top = (generation, path)
        if top is not None:
            state = self.state(top[1])
            if state == "live":
                return None
            if state == "gone":  # released while we looked: look again from generation 0
                return self.try_claim(key)
        generation = 0 if top is None else top[0] + 1
        path = self.dir / f"{key}.{generation}.claim"
        holder = {"host": host_tag(), "pid": os.getpid(), "token": secrets.token_hex(8), "claimed_at": time.time()}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # another process claimed (or took over) first
            return None
        with os.fdopen(fd, "w") as handle:
            json.dump(holder, handle)
        # The stale generations below stay until release: probing stops at the first missing one.
        return Claim(path, self.lease_s, below=[p for g, p in self._generations(key) if g < generation])

    def _generations(self, key: str) -> Iterator[tuple[int, Path]]:
        """(generation, path) of the claim files of `key`, probed from 0 up to the first missing one."""
        generation = 0
        while (path := self.dir / f"{key}.{generation}.claim").exists():
            yield generation, path
            generation += 1

    def state(self, path: Path) -> str:
        """"live" while its holder may work on it; "stale" when the holder is dead or silent past the
        lease; "gone" when the file was released while we looked."""
        try:
            age = time.time() - path.stat().st_mtime
            holder = json.loads(path.read_text() or "{}")
        except FileNotFoundError:
            return "gone"
        except (OSError, ValueError):  # being written this instant, or garbage: judge by age alone
            holder = {}
        if isinstance(holder, dict) and holder.get("host") == host_tag() and isinstance(holder.get("pid"), int):
            if not pid_alive(holder["pid"]):
                return "stale"
        return "stale" if age > self.lease_s else "live"

    def held(self) -> list[Path]:
        """Every claim file present now (held or stale), for listings."""
        return sorted(self.dir.glob("*.claim")) if self.dir.is_dir() else []
