"""The binary heap of the compiled loops (numba): entries (time, key, payload) in three arrays,
ordered by time, then key. Sifts move a hole, not the entry: the moving entry stays in registers
and each level costs one write per array instead of a three-array swap (the flood loop at N = 5000
spends much of its time here). The comparisons, and so the heap's layout, are a swap sift's."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always", error_model="numpy")
def sift_up(t: np.ndarray, s: np.ndarray, d: np.ndarray, i: int) -> None:
    """Move entry i up to its place in the binary heap (t, s, d)."""
    ti, si, di = t[i], s[i], d[i]
    while i > 0:
        parent = (i - 1) >> 1
        tp, sp = t[parent], s[parent]
        if not (ti < tp or (ti == tp and si < sp)):
            break
        t[i], s[i], d[i] = tp, sp, d[parent]
        i = parent
    t[i], s[i], d[i] = ti, si, di


@njit(cache=True, inline="always", error_model="numpy")
def sift_down(t: np.ndarray, s: np.ndarray, d: np.ndarray, n: int, i: int) -> None:
    """Move entry i down to its place in the binary heap (t, s, d) of n entries."""
    ti, si, di = t[i], s[i], d[i]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        tc, sc = t[child], s[child]
        if child + 1 < n:
            tr, sr = t[child + 1], s[child + 1]
            if tr < tc or (tr == tc and sr < sc):
                child += 1
                tc, sc = tr, sr
        if not (tc < ti or (tc == ti and sc < si)):
            break
        t[i], s[i], d[i] = tc, sc, d[child]
        i = child
    t[i], s[i], d[i] = ti, si, di
