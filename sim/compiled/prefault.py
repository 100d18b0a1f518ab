"""Fresh pages faulted in on the other core, ahead of a loop's writes (Linux MADV_POPULATE_WRITE).

On a VM whose balloon hands freed memory back to the host, a fresh page costs 2-3 ms per MB the
first time it is written (perf, flood at N = 5000: the kernel's clear_page 14 % of the loop's
samples for its 830 MB of flows, and 1.1 s to fill its 400 MB merge-time table). The flood loop
writes its flow and block tables in order, so a helper thread can fault in the pages just past the
rows it has filled, and the loop's core finds them present. The advice fills pages without changing
what they hold (a fresh page reads as zeros either way, a written one keeps its contents), so a run
is the same with or without the helper; where the system lacks it (Linux before 5.14, other
systems, a table that is not a reserved mapping) the loop faults its own pages as before. The
helper calls the kernel without the GIL (sim.compiled.memory.populate_bytes), so it slows no
other Python thread.
"""

from __future__ import annotations

import mmap
import threading
from collections.abc import Sequence

import numpy as np

from sim.compiled.memory import CAN_POPULATE, populate_bytes

STEP = 2 << 20  # bytes per call (a huge page, two where a range starts inside one): a stop waits for one
AHEAD = 8 << 20  # how far past the filled rows a table is kept populated, at most (~0.15 s of flood's writes)
POLL_S = 0.002  # how often the helper looks at the loop's progress
_MAPPING = mmap.mmap  # (the class, as imported: a test may replace the module's name to refuse mappings)


def mapping(table: np.ndarray) -> mmap.mmap | None:
    """The anonymous mapping a reserved table (sim.compiled.memory.reserve) starts at, or None."""
    base = table
    while base is not None and not isinstance(base, _MAPPING):
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    if base is None or np.frombuffer(base, np.uint8, 1).ctypes.data != table.ctypes.data:
        return None  # not a reserved table, or a view that starts inside one
    return base


def populate(table: np.ndarray, start: int, stop: int) -> bool:
    """Fault in the bytes [start, stop) of a reserved table for writing, contents unchanged.
    False where that cannot be done here (not a reserved table, no such advice, no memory left):
    then nothing is done."""
    if mapping(table) is None:
        return False  # (off Linux, populate_bytes refuses too)
    stop = min(stop, table.nbytes)
    return stop <= start or populate_bytes(table, start, stop)


class Prefault:
    """A helper thread, for the length of a `with` block, that keeps each tracked table populated
    past the rows its loop has filled (`progress[slot]` rows, read as the loop publishes them):
    up to twice the filled bytes, at least STEP and at most AHEAD further. Before that it fills the
    `first` tables from their ends backwards (a table the caller is about to fill from the front:
    the two meet in the middle). It stops when every table is populated to its end, or at the
    first refusal."""

    def __init__(self, progress: np.ndarray, tracked: Sequence[tuple[np.ndarray, int]],
                 first: Sequence[np.ndarray] = ()) -> None:
        self.progress, self.first = progress, [t for t in first if mapping(t) is not None]
        self.tracked = [(t, t.nbytes // max(len(t), 1), slot) for t, slot in tracked if mapping(t) is not None]
        self.done = [0] * len(self.tracked)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="skill-sim prefault", daemon=True)

    def __enter__(self) -> Prefault:
        if CAN_POPULATE and (self.first or self.tracked):
            try:
                self.thread.start()
            except RuntimeError:  # no thread to be had (a thread limit): the loop faults its own pages
                pass
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()

    def _run(self) -> None:
        """Populate the `first` tables, then follow the progress until told to stop."""
        for table in self.first:
            for end in range(table.nbytes, 0, -STEP):
                if self.stopping.is_set() or not populate(table, max(end - STEP, 0), end):
                    return
        while not self.stopping.wait(POLL_S):
            for i, (table, row_bytes, slot) in enumerate(self.tracked):
                filled = int(self.progress[slot]) * row_bytes
                want = min(table.nbytes, filled + min(max(filled, STEP), AHEAD))
                start = max(self.done[i], filled)
                while start < want and not self.stopping.is_set():
                    if not populate(table, start, min(start + STEP, want)):
                        return
                    start += STEP
                self.done[i] = max(self.done[i], want)
            if all(done >= table.nbytes for done, (table, _, _) in zip(self.done, self.tracked)):
                return
