"""The loops' binary heap (sim/compiled/heap.py) against a textbook swap heap written here.

Claim: the hole sifts (bottom-up for sift_down) leave the entries exactly as a swap sift does,
entry for entry, ties on (time, key) included, so the loops pop in the same order as before."""

import numpy as np
import pytest



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


def records(h):
    """The heap's flat table as rows (time, key, payload, spare), times as floats."""
    rows = h.reshape(-1, 4)
    return rows.view(np.float64)[:, 0], rows[:, 1], rows[:, 2]


@pytest.mark.parametrize("seed", range(20))
def test_the_heap_keeps_a_swap_heaps_layout(seed):
    """sim/compiled/heap.py (records, 1-based, a sentinel after the last entry, times as
    their bits, bottom-up sift_down) through push, replace_top and pop_top: the top is always the
    earliest (time, key), and after every step the entries equal the 0-based swap heap's, entry for
    entry (ties on (time, key) included, so the flood loop pops in the same order as with
    sim/compiled/heap.py), with the sentinel right after the last entry. Times include +0.0 and
    values below 1 and above 2**52, where bit patterns and floats must agree on order."""
    from sim.compiled.heap import new_heap, pop_top, push, replace_top, top_time

    rng = np.random.default_rng(seed)
    size = 300
    h = new_heap(size)
    times, keys, payloads = records(h)
    ref = [np.empty(size), np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)]
    scale = [1.0, 1e-3, 2.0**60][seed % 3]
    n, payload, popped = 0, 0, []
    for _ in range(4000):
        if n < size and (n == 0 or rng.random() < 0.45):
            entry = (float(rng.integers(0, 8)) * scale, int(rng.integers(0, 3)), payload)
            payload += 1
            for a, x in zip(ref, entry):
                a[n] = x
            swap_up(*ref, n)
            n = push(h, n, *entry)
        else:
            popped.append((times[1], keys[1]))
            assert top_time(h) == times[1]
            assert popped[-1] == min(zip(times[1:n + 1], keys[1:n + 1]))  # the top is the earliest
            if rng.random() < 0.5:  # the top comes again later, payload kept
                t, key = times[1] + float(rng.integers(0, 4)) * scale, int(rng.integers(0, 3))
                ref[0][0], ref[1][0] = t, key
                swap_down(*ref, n, 0)
                replace_top(h, n, t, key)
            else:  # the top leaves; the last entry takes its place
                for a in ref:
                    a[0] = a[n - 1]
                swap_down(*ref, n - 1, 0)
                n = pop_top(h, n)
        assert np.array_equal(times[1:n + 1], ref[0][:n])
        assert np.array_equal(keys[1:n + 1], ref[1][:n])
        assert np.array_equal(payloads[1:n + 1], ref[2][:n])
        assert times[n + 1] == np.inf
    assert len(popped) > 1000
    assert top_time(new_heap(1)) == np.inf  # an empty heap's top: the sentinel


def test_the_heap_puts_siblings_on_one_cache_line():
    """Children 2i and 2i + 1 of every entry share a 64-byte line (the point of the layout)."""
    from sim.compiled.heap import new_heap

    for capacity in (1, 7, 1000):
        h = new_heap(capacity)
        assert h.shape == ((capacity + 2) * 4,)
        line = [(h.ctypes.data + r * 32) // 64 for r in range(capacity + 2)]
        assert all(line[2 * i] == line[2 * i + 1] for i in range(1, (capacity + 1) // 2))


def test_a_grown_heap_keeps_its_entries_and_order():
    """grow_heap (push_pull's heap grows with its digests in flight): the entries and sentinel
    move to a table of at least the room asked for, and pops continue in (time, key) order."""
    from sim.compiled.heap import capacity, grow_heap, new_heap, pop_top, push, top_time

    rng = np.random.default_rng(5)
    h, n = new_heap(4), 0
    entries = [(float(rng.integers(0, 5)), k, k) for k in range(40)]
    for t, key, payload in entries:
        if n == capacity(h):
            h = grow_heap(h, n, n + 1)
        n = push(h, n, t, key, payload)
    assert capacity(h) >= 40 and capacity(grow_heap(h, n, 100)) >= 100
    popped = []
    while n:
        popped.append((top_time(h), records(h)[1][1]))
        n = pop_top(h, n)
    assert popped == sorted((t, key) for t, key, _ in entries)
