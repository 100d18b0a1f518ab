"""The flood loop's binary heap (numba), laid out so that each level of a sift reads one cache line.

The same heap as sim/compiled/heap.py (entries (time, key, payload) ordered by time, then key; hole
sifts; the same comparisons, so ties on (time, key) come out in the same order, entry for entry)
in a different memory layout: one 32-byte record per entry (time, key, payload, spare) in an int64
table, 1-based, so that the two children 2i and 2i + 1 of entry i fill one 64-byte line. The
three-array heap reads three lines per level (times, keys, payloads), a record heap one. With
20,000 directions the heap is 15 levels deep, and sift_down was 32 % of the flood loop's profile
samples at N = 5000 (perf, cpu-clock). Times are read through a float64 view of the same memory.

The table has two rows more than entries: row 0 is unused, and the row after the last entry holds a
sentinel (+inf, the largest key) that no entry comes after, so a sift never tests whether a node
has a right child. Callers keep it there: `push` and `pop_top` do.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.compiled.memory import prefetch

T, KEY, PAY = 0, 1, 2  # columns of a record (T through the float64 view)
ROW = 4  # int64 words per record: 32 bytes
LAST_KEY = np.iinfo(np.int64).max


@njit(cache=True, error_model="numpy")
def new_heap(capacity: int):
    """A heap table for `capacity` entries on 64-byte lines, and its float64 view (rows 1..n hold
    the entries; the sentinel sits at row 1 while the heap is empty)."""
    raw = np.zeros((capacity + 4) * ROW, dtype=np.int64)  # (payloads past the end read as 0)
    skip = ((64 - (raw.ctypes.data & 63)) & 63) >> 3  # words to the first 64-byte boundary: row 0,
    h = raw[skip:skip + (capacity + 2) * ROW].reshape((capacity + 2, ROW))  # so rows 2i and 2i + 1 share one
    hf = h.view(np.float64)
    _sentinel(h, hf, 1)
    return h, hf


@njit(cache=True, inline="always", error_model="numpy")
def _sentinel(h, hf, i) -> None:
    """Row i holds the sentinel: after every entry (payload 0, a valid index to prefetch with)."""
    hf[i, T] = np.inf
    h[i, KEY] = LAST_KEY
    h[i, PAY] = 0


@njit(cache=True, inline="always", error_model="numpy")
def _before(t1, s1, t2, s2) -> bool:
    """(t1, s1) comes before (t2, s2): by time, then key (no short circuit: a select, not a jump)."""
    return (t1 < t2) | ((t1 == t2) & (s1 < s2))


@njit(cache=True, inline="always", error_model="numpy")
def sift_up(h, hf, i: int) -> None:
    """Move entry i up to its place."""
    ti, si, pi = hf[i, T], h[i, KEY], h[i, PAY]
    while i > 1:
        parent = i >> 1
        tp, sp = hf[parent, T], h[parent, KEY]
        if not _before(ti, si, tp, sp):
            break
        hf[i, T], h[i, KEY], h[i, PAY] = tp, sp, h[parent, PAY]
        i = parent
    hf[i, T], h[i, KEY], h[i, PAY] = ti, si, pi


@njit(cache=True, inline="always", error_model="numpy")
def sift_down(h, hf, n: int, i: int) -> None:
    """Move entry i down to its place among the n entries (row n + 1 holds the sentinel)."""
    ti, si, pi = hf[i, T], h[i, KEY], h[i, PAY]
    while True:
        child = 2 * i
        if child > n:
            break
        if 2 * child < n:  # the grandchildren's two lines, one level ahead
            prefetch(h, 2 * child, 0)
            prefetch(h, 2 * child + 2, 0)
        tc, sc, tr, sr = hf[child, T], h[child, KEY], hf[child + 1, T], h[child + 1, KEY]
        right = _before(tr, sr, tc, sc)  # on a tie the left child, as a swap sift takes
        child += right
        tc, sc = (tr, sr) if right else (tc, sc)
        if not _before(tc, sc, ti, si):
            break
        hf[i, T], h[i, KEY], h[i, PAY] = tc, sc, h[child, PAY]
        i = child
    hf[i, T], h[i, KEY], h[i, PAY] = ti, si, pi


@njit(cache=True, inline="always", error_model="numpy")
def push(h, hf, n: int, t: float, key: int, payload: int) -> int:
    """Add an entry to the heap of n entries (the table has room); returns the new size."""
    n += 1
    hf[n, T], h[n, KEY], h[n, PAY] = t, key, payload
    _sentinel(h, hf, n + 1)
    sift_up(h, hf, n)
    return n


@njit(cache=True, inline="always", error_model="numpy")
def pop_top(h, hf, n: int) -> int:
    """Drop the top entry of the heap of n entries (the last takes its place); returns the new size."""
    hf[1, T], h[1, KEY], h[1, PAY] = hf[n, T], h[n, KEY], h[n, PAY]
    _sentinel(h, hf, n)
    n -= 1
    sift_down(h, hf, n, 1)
    return n


@njit(cache=True, inline="always", error_model="numpy")
def replace_top(h, hf, n: int, t: float, key: int) -> None:
    """The top entry, payload kept, comes again at (t, key): its next place in the heap of n entries."""
    hf[1, T], h[1, KEY] = t, key
    sift_down(h, hf, n, 1)
