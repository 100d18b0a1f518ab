"""The compiled loops' binary heap (numba), laid out so that each level of a sift reads one cache line.

Entries (time, key, payload) come out by time, then key (both loops' keys are non-negative; ties
on (time, key), which flood's keys allow, come out exactly as from a textbook swap heap, entry for
entry: tests/sim/compiled/test_heap.py). One 32-byte record per entry (time, key, payload, spare)
in a flat int64 table, 1-based, so that the two children 2i and 2i + 1 of entry i fill one 64-byte
line (three arrays read three lines per level). With 20,000 directions flood's heap is 15 levels
deep, and its sifts were over half of that loop's profile samples at N = 5000 (perf, cpu-clock),
so a level costs as few instructions as it can:
- times are kept as their IEEE bits: for the loops' times (>= +0.0, +inf at most, never NaN or
  -0.0) the bits order as the floats do, so (time, key) compares as one 128-bit integer;
- records are indexed in a flat table with unsigned offsets (no row stride to multiply, no test
  for negative indices);
- sift_down goes bottom-up (Floyd): it moves the earlier child up to the leaves without comparing
  the moving entry, then climbs back while that entry does not come after the one above it. The
  path it moves along is sorted, so it stops where a swap sift would have, ties included, with a
  comparison per level instead of two.

The table has two rows more than entries: row 0 is unused, and the row after the last entry holds a
sentinel (+inf, the largest key) that no entry comes after, so a sift never tests whether a node
has a right child. Callers keep it there: `push` and `pop_top` do.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from sim.compiled.memory import prefetch

T, KEY, PAY = 0, 1, 2  # words of a record (T: the time's IEEE bits)
ROW = 4  # int64 words per record: 32 bytes
LAST_KEY = np.iinfo(np.int64).max
INF_BITS = np.int64(0x7FF0000000000000)  # +inf's bits


@intrinsic
def bits(typingctx, t):
    """The IEEE bits of a float64, as an int64 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def from_bits(typingctx, b):
    """The float64 whose IEEE bits are the int64 b."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(cache=True, error_model="numpy")
def new_heap(capacity: int):
    """A heap table for `capacity` entries, row 0 on a 64-byte boundary so that rows 2i and 2i + 1
    share a line (rows 1..n hold the entries; the sentinel sits at row 1 while the heap is empty)."""
    raw = np.zeros((capacity + 4) * ROW, dtype=np.int64)  # (payloads past the end read as 0)
    skip = ((64 - (raw.ctypes.data & 63)) & 63) >> 3  # words to the first 64-byte boundary
    h = raw[skip:skip + (capacity + 2) * ROW]
    _sentinel(h, 1)
    return h


@njit(cache=True, inline="always", error_model="numpy")
def capacity(h) -> int:
    """How many entries the table holds."""
    return len(h) // ROW - 2


@njit(cache=True, error_model="numpy")
def grow_heap(h, n: int, need: int):
    """A table for at least `need` entries (doubling) that holds the heap of n entries in h."""
    bigger = new_heap(max(need, 2 * capacity(h)))
    bigger[:(n + 2) * ROW] = h[:(n + 2) * ROW]  # unused row 0, the entries, the sentinel
    return bigger


@njit(cache=True, inline="always", error_model="numpy")
def at(i: int, word: int):
    """Where word `word` of record i sits in the flat table (unsigned: no negative-index test)."""
    return np.uint64(ROW * i + word)


@njit(cache=True, inline="always", error_model="numpy")
def top_time(h) -> float:
    """The earliest entry's time (+inf when the heap is empty)."""
    return from_bits(h[at(1, T)])


@njit(cache=True, inline="always", error_model="numpy")
def key_of(h, i: int) -> int:
    """Record i's key."""
    return h[at(i, KEY)]


@njit(cache=True, inline="always", error_model="numpy")
def payload_of(h, i: int) -> int:
    """Record i's payload."""
    return h[at(i, PAY)]


@njit(cache=True, inline="always", error_model="numpy")
def _sentinel(h, i) -> None:
    """Row i holds the sentinel: after every entry (payload 0, a valid index to prefetch with)."""
    h[at(i, T)] = INF_BITS
    h[at(i, KEY)] = LAST_KEY
    h[at(i, PAY)] = 0


@intrinsic
def _before(typingctx, t1, s1, t2, s2):
    """(t1, s1) comes before (t2, s2): by time bits, then key, as one unsigned 128-bit comparison
    (a compare and a subtract with borrow: no branch, no flags combined by hand). Both words are
    non-negative, so this is the order of the pairs."""
    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)

        def pair(hi, lo):
            return builder.or_(builder.shl(builder.zext(hi, wide), ir.Constant(wide, 64)), builder.zext(lo, wide))

        return builder.icmp_unsigned("<", pair(args[0], args[1]), pair(args[2], args[3]))

    return types.boolean(types.int64, types.int64, types.int64, types.int64), codegen


@njit(cache=True, inline="always", error_model="numpy")
def _put(h, i, t, s, p) -> None:
    """Record i holds (t, s, p)."""
    h[at(i, T)], h[at(i, KEY)], h[at(i, PAY)] = t, s, p


@njit(cache=True, inline="always", error_model="numpy")
def sift_up(h, i: int) -> None:
    """Move entry i up to its place."""
    ti, si, pi = h[at(i, T)], h[at(i, KEY)], h[at(i, PAY)]
    while i > 1:
        parent = i >> 1
        tp, sp = h[at(parent, T)], h[at(parent, KEY)]
        if not _before(ti, si, tp, sp):
            break
        _put(h, i, tp, sp, h[at(parent, PAY)])
        i = parent
    _put(h, i, ti, si, pi)


@njit(cache=True, inline="always", error_model="numpy")
def sift_down(h, n: int, i: int) -> None:
    """Move entry i down to its place among the n entries (row n + 1 holds the sentinel)."""
    ti, si, pi = h[at(i, T)], h[at(i, KEY)], h[at(i, PAY)]
    top = i
    child = 2 * i
    while child <= n:  # down to a leaf, the earlier child moving up each level
        if 2 * child < n:  # the grandchildren's two lines, one level ahead
            prefetch(h, at(2 * child, 0), 0)
            prefetch(h, at(2 * child + 2, 0), 0)
        tc, sc, tr, sr = h[at(child, T)], h[at(child, KEY)], h[at(child + 1, T)], h[at(child + 1, KEY)]
        right = _before(tr, sr, tc, sc)  # on a tie the left child, as a swap sift takes
        child += right
        _put(h, i, tr if right else tc, sr if right else sc, h[at(child, PAY)])
        i = child
        child = 2 * i
    while i > top:  # back up while the entry above does not come before the moving one
        parent = i >> 1
        tp, sp = h[at(parent, T)], h[at(parent, KEY)]
        if _before(tp, sp, ti, si):
            break
        _put(h, i, tp, sp, h[at(parent, PAY)])
        i = parent
    _put(h, i, ti, si, pi)


@njit(cache=True, inline="always", error_model="numpy")
def push(h, n: int, t: float, key: int, payload: int) -> int:
    """Add an entry to the heap of n entries (the table has room); returns the new size."""
    n += 1
    _put(h, n, bits(t), key, payload)
    _sentinel(h, n + 1)
    sift_up(h, n)
    return n


@njit(cache=True, inline="always", error_model="numpy")
def pop_top(h, n: int) -> int:
    """Drop the top entry of the heap of n entries (the last takes its place); returns the new size."""
    _put(h, 1, h[at(n, T)], h[at(n, KEY)], h[at(n, PAY)])
    _sentinel(h, n)
    n -= 1
    sift_down(h, n, 1)
    return n


@njit(cache=True, inline="always", error_model="numpy")
def replace_top(h, n: int, t: float, key: int) -> None:
    """The top entry, payload kept, comes again at (t, key): its next place in the heap of n entries."""
    h[at(1, T)], h[at(1, KEY)] = bits(t), key
    sift_down(h, n, 1)
