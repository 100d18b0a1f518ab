"""The loops' binary heap (sim/compiled/heap.py) against a textbook swap heap written here.

Claim: the hole sifts (Floyd's for sift_down) leave the three arrays exactly as a swap sift does,
entry for entry, ties on (time, key) included, so the loops pop in the same order as before."""

import numpy as np
import pytest

from sim.compiled.heap import sift_down, sift_up


def less(t, s, i, j):
    """Entry i before entry j: by time, then key."""
    return t[i] < t[j] or (t[i] == t[j] and s[i] < s[j])


def swap(arrays, i, j):
    for a in arrays:
        a[i], a[j] = a[j], a[i]


def swap_up(t, s, d, i):
    """Swap entry i with its parent while it comes before it."""
    while i > 0 and less(t, s, i, (i - 1) // 2):
        swap((t, s, d), i, (i - 1) // 2)
        i = (i - 1) // 2


def swap_down(t, s, d, n, i):
    """Swap entry i with its earlier child (the left one on a tie) while that comes before it."""
    while 2 * i + 1 < n:
        child = 2 * i + 1
        if child + 1 < n and less(t, s, child + 1, child):
            child += 1
        if not less(t, s, child, i):
            return
        swap((t, s, d), i, child)
        i = child


@pytest.mark.parametrize("seed", range(20))
def test_sifts_give_a_swap_heaps_layout(seed):
    """Random pushes and pops (the root replaced by a later entry, as a direction's next arrival,
    or by the last entry, as a direction that empties) on few distinct times and keys: the arrays
    stay equal to the swap heap's after every step, and pops come out in (time, key) order."""
    rng = np.random.default_rng(seed)
    size = 200
    ours = [np.empty(size), np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)]
    ref = [np.empty(size), np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)]
    n, payload, popped = 0, 0, []
    for _ in range(3000):
        if n < size and (n == 0 or rng.random() < 0.45):  # push
            entry = (float(rng.integers(0, 8)), int(rng.integers(0, 3)), payload)
            payload += 1
            for arrays in (ours, ref):
                for a, x in zip(arrays, entry):
                    a[n] = x
            sift_up(*ours, n)
            swap_up(*ref, n)
            n += 1
        else:  # pop the root; put back a later entry or the last one
            popped.append((ours[0][0], ours[1][0]))
            if rng.random() < 0.5:
                entry = (ours[0][0] + float(rng.integers(0, 4)), int(rng.integers(0, 3)), payload)
                payload += 1
            else:
                n -= 1
                entry = (ours[0][n], ours[1][n], ours[2][n])
            for arrays in (ours, ref):
                for a, x in zip(arrays, entry):
                    a[0] = x
            sift_down(*ours, n, 0)
            swap_down(*ref, n, 0)
        for a, b in zip(ours, ref):
            assert np.array_equal(a[:n], b[:n])
    assert len(popped) > 1000
