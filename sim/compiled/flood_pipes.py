"""Flood's link directions as FIFO pipes (numba): one 128-byte row of state per direction, and its flows.

A direction carries one flow at a time; a package put on it while a flow is on the wire waits for
the next flow, which starts when the current one ends and carries everything queued by then, so
a direction holds at most a current and a next flow (sim/compiled/flood_loop.py's docstring: the
model, and why the row is laid out as it is). Flows are rows of a table the loop appends to.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NO_FLOW = -1
# Columns of a direction's 128-byte row: eight floats (item counts are exact as floats), read
# through ds, then integers, read through di (two views of one table; the last word is spare: a
# copy's sender is in its key).
CUR_START, CUR_BYTES, CUR_END, NXT_BYTES, BW, LAT, CUR_ITEMS, NXT_ITEMS = range(8)
CUR_FID, NXT_FID, QHC, QHP, QTC, QTP, DST = range(8, 15)
F_START, F_END, F_BYTES, F_ITEMS = range(4)  # columns of a flow row (items through an int64 view)


@njit(cache=True, inline="always", error_model="numpy")
def open_flow(flows, f_dir, n_flows, start, d) -> int:
    """Flow n_flows on direction d, starting at `start` (the table has room); returns the next id."""
    flows[np.uint64(n_flows), F_START] = start
    f_dir[n_flows] = d
    return n_flows + 1


@njit(cache=True, inline="always", error_model="numpy")
def close_flow(flows, fid, end, nbytes, items) -> None:
    """Flow fid has ended at `end`, having carried `nbytes` in `items` packages (one cache line)."""
    r = np.uint64(fid)
    flows[r, F_END], flows[r, F_BYTES] = end, nbytes
    flows.view(np.int64)[r, F_ITEMS] = np.int64(items)


@njit(cache=True, inline="always", error_model="numpy")
def pipe(ds, di, flows, f_dir, n_flows, d, t, s, pub):
    """Put a package of s bytes on direction d's FIFO pipe at time t (a publish waits for the flows
    its agent starts at this instant): the flow that carries it, when it leaves, the next flow id."""
    r = np.uint64(d)  # (an unsigned row: no test for a negative index)
    if di[r, NXT_FID] != NO_FLOW and (t > ds[r, CUR_END] or pub and t == ds[r, CUR_END]):
        # the next flow began when the current ended
        close_flow(flows, di[r, CUR_FID], ds[r, CUR_END], ds[r, CUR_BYTES], ds[r, CUR_ITEMS])
        di[r, CUR_FID] = di[r, NXT_FID]
        ds[r, CUR_START] = ds[r, CUR_END]
        ds[r, CUR_BYTES] = ds[r, NXT_BYTES]
        ds[r, CUR_ITEMS] = ds[r, NXT_ITEMS]
        ds[r, CUR_END] = ds[r, CUR_START] + ds[r, CUR_BYTES] / ds[r, BW]
        di[r, NXT_FID] = NO_FLOW
    if di[r, CUR_FID] != NO_FLOW and t <= ds[r, CUR_START] and not pub:  # joins the flow starting now
        ds[r, CUR_BYTES] += s
        ds[r, CUR_ITEMS] += 1
        ds[r, CUR_END] = ds[r, CUR_START] + ds[r, CUR_BYTES] / ds[r, BW]
        return di[r, CUR_FID], ds[r, CUR_END], n_flows
    if di[r, CUR_FID] != NO_FLOW and (t < ds[r, CUR_END] or t == ds[r, CUR_END] and not pub):
        # busy: waits for the next flow
        if di[r, NXT_FID] == NO_FLOW:
            di[r, NXT_FID] = n_flows
            n_flows = open_flow(flows, f_dir, n_flows, ds[r, CUR_END], d)
            ds[r, NXT_BYTES] = 0.0
            ds[r, NXT_ITEMS] = 0
        ds[r, NXT_BYTES] += s
        ds[r, NXT_ITEMS] += 1
        return di[r, NXT_FID], ds[r, CUR_END] + ds[r, NXT_BYTES] / ds[r, BW], n_flows
    if di[r, CUR_FID] != NO_FLOW:  # idle: a new flow now
        close_flow(flows, di[r, CUR_FID], ds[r, CUR_END], ds[r, CUR_BYTES], ds[r, CUR_ITEMS])
    di[r, CUR_FID] = n_flows
    n_flows = open_flow(flows, f_dir, n_flows, t, d)
    ds[r, CUR_START] = t
    ds[r, CUR_BYTES] = s
    ds[r, CUR_ITEMS] = 1
    ds[r, CUR_END] = t + s / ds[r, BW]
    return di[r, CUR_FID], ds[r, CUR_END], n_flows


@njit(cache=True, error_model="numpy")
def directions(dst, bw, lat):
    """Per direction, its state in one 128-byte row on a 128-byte boundary: two cache lines that
    the L2's adjacent-line prefetcher fetches as a pair (at N = 5000 there are 20,000 directions;
    separate arrays per field cost a miss per field, separate float and integer tables two misses
    per direction). Returns the row table as floats (ds) and as integers (di)."""
    n_dirs = len(dst)
    raw = np.empty((n_dirs + 1) * 16, dtype=np.int64)
    skip = ((128 - (raw.ctypes.data & 127)) & 127) >> 3
    di = raw[skip:skip + n_dirs * 16].reshape((n_dirs, 16))
    ds = di.view(np.float64)
    for d in range(n_dirs):
        ds[d, :8] = 0.0
        di[d, 8:] = -1
        ds[d, BW], ds[d, LAT] = bw[d], lat[d] + 0.0  # (-0.0 + 0.0 is +0.0: the heap orders times by their bits)
        di[d, DST] = dst[d]
    return ds, di


@njit(cache=True, error_model="numpy")
def close_all(ds, di, flows) -> None:
    """Close the flows still open when the last package arrived."""
    for d in range(len(ds)):
        if di[d, CUR_FID] != NO_FLOW:
            close_flow(flows, di[d, CUR_FID], ds[d, CUR_END], ds[d, CUR_BYTES], ds[d, CUR_ITEMS])
        if di[d, NXT_FID] != NO_FLOW:
            close_flow(flows, di[d, NXT_FID], ds[d, CUR_END] + ds[d, NXT_BYTES] / ds[d, BW], ds[d, NXT_BYTES],
                        ds[d, NXT_ITEMS])


@njit(cache=True, error_model="numpy")
def renumber(f_dir, flows, n_flows, out_dir):
    """The flows' directions by their numbers outside the loop (in place: no 92 MB copy), and the
    bytes each direction carried (summed in flow order, as numpy's bincount would)."""
    dir_bytes = np.zeros(len(out_dir))
    for i in range(n_flows):
        d = out_dir[f_dir[i]]
        f_dir[i] = d
        dir_bytes[d] += flows[i, F_BYTES]
    return dir_bytes

