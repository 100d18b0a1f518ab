"""A compiled event loop (numba) for flood and broadcast over independent links.

When every link direction is its own resource (no NIC limit, no serial receive, no loss, no
failure), the flow model reduces to one FIFO pipe per direction: a flow starts when the direction is
idle, or when the previous flow ends, and carries every package queued by then; item i of a flow
leaves at start + cum_i / bandwidth and arrives `latency` later. This loop computes those same
flows, arrival times and banks with one heap event per package arrival and no Python object per
flow, so that N = 5000 (10^8 package arrivals) runs in well under a minute. The SimPy engine
(engine.py) stays the reference for every other setting; tests check that both agree.
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

NO_FLOW = -1


@njit(cache=True)
def _grow(a: np.ndarray, need: int) -> np.ndarray:
    """`a` with room for at least `need` entries (doubling), contents kept."""
    if need <= len(a):
        return a
    b = np.empty(max(need, 2 * len(a)), a.dtype)
    b[:len(a)] = a
    return b


@njit(cache=True)
def run_loop(n_agents, n_tasks, out_ptr, out_dir, src, dst, bw, lat, sizes, pub_t, pub_agent, pub_task,
             student, rates, forward, keep_items):
    """Simulate every publish and package arrival in time order.

    out_ptr/out_dir: each agent's outgoing directions (CSR); src/dst/bw/lat: per direction;
    sizes/student: per task; pub_*: publish events sorted by time; forward: relay new packages
    to every neighbour but their sender (flood) or not (broadcast).
    Returns banks, merge times, per-direction bytes, student MACs, heap events, and the flows
    (start, end, direction, bytes, items) plus, with keep_items, each item's flow and package.
    """
    held = np.zeros((n_agents, n_tasks), dtype=np.bool_)
    known_at = np.full((n_agents, n_tasks), np.inf)
    merge_free = np.zeros(n_agents)
    no_merge = not (student > 0).any()
    n_dirs = len(src)
    dir_bytes = np.zeros(n_dirs)
    cur_fid = np.full(n_dirs, NO_FLOW, dtype=np.int64)  # flow now leaving (or last left) per direction
    cur_start = np.zeros(n_dirs)
    cur_bytes = np.zeros(n_dirs)
    cur_end = np.zeros(n_dirs)
    nxt_fid = np.full(n_dirs, NO_FLOW, dtype=np.int64)  # flow that starts when the current one ends
    nxt_bytes = np.zeros(n_dirs)
    f_start = np.empty(1024)
    f_end = np.empty(1024)
    f_dir = np.empty(1024, dtype=np.int32)
    f_bytes = np.empty(1024)
    f_items = np.empty(1024, dtype=np.int32)
    n_flows = 0
    i_fid = np.empty(1024 if keep_items else 0, dtype=np.int64)
    i_pkg = np.empty(1024 if keep_items else 0, dtype=np.int32)
    n_items = 0
    student_macs = 0.0
    events = 0
    seq = 0
    heap = [(0.0, 0, 0, 0, 0)]  # (time, tie-break, agent, task, direction it came on or -1)
    heap.pop()
    for k in range(len(pub_t)):
        heapq.heappush(heap, (pub_t[k], seq, pub_agent[k], pub_task[k], -1))
        seq += 1
    while len(heap) > 0:
        t, _, v, p, came = heapq.heappop(heap)
        events += 1
        if came >= 0:
            if held[v, p]:
                continue  # a duplicate: delivered, refused
            held[v, p] = True
            if no_merge:
                done = t
            else:
                done = student[p] / rates[v] + max(t, merge_free[v])
                merge_free[v] = done
            known_at[v, p] = done
            student_macs += student[p]
            if not forward:
                continue
            sender = src[came]
        else:
            if not held[v, p]:
                held[v, p] = True
                known_at[v, p] = t
                merge_free[v] = max(merge_free[v], t)
            sender = -1
        for j in range(out_ptr[v], out_ptr[v + 1]):
            d = out_dir[j]
            if dst[d] == sender:
                continue
            s = sizes[p]
            if nxt_fid[d] != NO_FLOW and t > cur_end[d]:  # the next flow began when the current ended
                f_end[cur_fid[d]] = cur_end[d]
                cur_fid[d] = nxt_fid[d]
                cur_start[d] = cur_end[d]
                cur_bytes[d] = nxt_bytes[d]
                cur_end[d] = cur_start[d] + cur_bytes[d] / bw[d]
                nxt_fid[d] = NO_FLOW
            if cur_fid[d] != NO_FLOW and t <= cur_start[d]:  # joins the flow starting right now
                fid = cur_fid[d]
                cur_bytes[d] += s
                cur_end[d] = cur_start[d] + cur_bytes[d] / bw[d]
                leave = cur_end[d]
            elif cur_fid[d] != NO_FLOW and t <= cur_end[d]:  # busy: waits for the next flow
                if nxt_fid[d] == NO_FLOW:
                    if n_flows == len(f_start):
                        f_start, f_end, f_bytes = _grow(f_start, n_flows + 1), _grow(f_end, n_flows + 1), _grow(f_bytes, n_flows + 1)
                        f_dir, f_items = _grow(f_dir, n_flows + 1), _grow(f_items, n_flows + 1)
                    nxt_fid[d] = n_flows
                    f_start[n_flows] = cur_end[d]
                    f_dir[n_flows] = d
                    f_bytes[n_flows] = 0.0
                    f_items[n_flows] = 0
                    n_flows += 1
                    nxt_bytes[d] = 0.0
                fid = nxt_fid[d]
                nxt_bytes[d] += s
                leave = cur_end[d] + nxt_bytes[d] / bw[d]
            else:  # idle: a new flow now
                if cur_fid[d] != NO_FLOW:
                    f_end[cur_fid[d]] = cur_end[d]
                if n_flows == len(f_start):
                    f_start, f_end, f_bytes = _grow(f_start, n_flows + 1), _grow(f_end, n_flows + 1), _grow(f_bytes, n_flows + 1)
                    f_dir, f_items = _grow(f_dir, n_flows + 1), _grow(f_items, n_flows + 1)
                fid = n_flows
                n_flows += 1
                f_start[fid] = t
                f_dir[fid] = d
                f_bytes[fid] = 0.0
                f_items[fid] = 0
                cur_fid[d] = fid
                cur_start[d] = t
                cur_bytes[d] = s
                cur_end[d] = t + s / bw[d]
                leave = cur_end[d]
            f_bytes[fid] += s
            f_items[fid] += 1
            dir_bytes[d] += s
            if keep_items:
                if n_items == len(i_fid):
                    i_fid, i_pkg = _grow(i_fid, n_items + 1), _grow(i_pkg, n_items + 1)
                i_fid[n_items] = fid
                i_pkg[n_items] = p
                n_items += 1
            heapq.heappush(heap, (leave + lat[d], seq, dst[d], p, d))
            seq += 1
    for d in range(n_dirs):  # close the flows still open when the last package arrived
        if cur_fid[d] != NO_FLOW:
            f_end[cur_fid[d]] = cur_end[d]
        if nxt_fid[d] != NO_FLOW:
            f_end[nxt_fid[d]] = cur_end[d] + nxt_bytes[d] / bw[d]
    return (held, known_at, dir_bytes, student_macs, events, f_start[:n_flows], f_end[:n_flows],
            f_dir[:n_flows], f_bytes[:n_flows], f_items[:n_flows], i_fid[:n_items], i_pkg[:n_items])
