"""Flows and inboxes of the compiled push_pull loop (numba): starting a flow on a direction, and an
agent taking in, in arrival order, what has reached it (sim.engine.knowledge's `collect` and the
engine's intake, on arrays). Also the loop's event push and bank bits."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.compiled.heap import push
from sim.ranks import WAKE as RANK_WAKE

PUBLISH, TIMER, FLOW_END, WAKE = range(4)  # event kinds: code = subject * 4 + kind
RANK_SHIFT = 40  # an event's heap key: rank << RANK_SHIFT | sequence number (see sim.ranks.rank)
ASK, ANSWER = 0, 1  # digest kinds
IDLE, CLAIMED = -1, -2  # a direction's flow id when it carries none
OFF, LEN, NEXT, SLOT = range(4)  # columns of a batch row (SLOT: its digest's slot, or -1)
START, END, BYTES, CUM, ARRIVE = range(5)  # float columns of a flow row (CUM, ARRIVE: the inbox cursor)
DIR, FIRST, NITEMS, CB, CK, NEXT_IN = range(6)  # int columns of a flow row (CB, CK: cursor batch, index)
# the loop's counters, in one array so that helpers can update them
N_ITEMS, N_BATCHES, N_FLOWS, H_N, SEQ, FREE_SLOT, N_SLOTS, NEXT_TOKEN, QUEUED, INCOMING, PARTIAL, EVENTS = range(12)
N_COUNTERS = 12


@njit(cache=True, inline="always", error_model="numpy")
def event_rank(kind, agent, n_agents):
    """sim.ranks.rank in the loop's terms: flow ends have rank 0 (URGENT in SimPy) and the loop
    has none of SimPy's NORMAL events, so the engine's own ranks start at 1."""
    return 1 + kind * n_agents + agent


@njit(cache=True, inline="always", error_model="numpy")
def push_event(h, c, t, code, rank) -> None:
    """Schedule event `code` at time t (the heap has room: see the reserve at the loop's top).
    Events of one instant run by rank, as in the SimPy engine (sim.ranks.rank): flow ends (rank
    0), then wake-ups, publishes and timers, each in agent order; equal ranks in scheduling order."""
    c[H_N] = push(h, c[H_N], t, (rank << RANK_SHIFT) | c[SEQ], code)
    c[SEQ] += 1


@njit(cache=True, inline="always", error_model="numpy")
def holds(bits, v, p) -> bool:
    """Does agent v hold package p? (One bitset row per agent: digests copy and diff whole rows.)"""
    return (bits[v, p >> 6] >> np.uint64(p & 63)) & np.uint64(1) != 0


@njit(cache=True, inline="always", error_model="numpy")
def hold(bits, n_held, holders, c, n_agents, v, p) -> None:
    """Agent v now holds package p; `partial` counts tasks held by some agents but not all."""
    bits[v, p >> 6] |= np.uint64(1) << np.uint64(p & 63)
    n_held[v] += 1
    h = holders[p]
    holders[p] = h + 1
    if h == 0:
        c[PARTIAL] += 1
    if h + 1 == n_agents:
        c[PARTIAL] -= 1


@njit(cache=True, error_model="numpy", _nrt=False)
def open_flow(d, head, now, c, fs, fi, bt, items, tsize, sizes, bw, lat, d_dst, d_busy, inbox_head, inbox_tail,
          tok_in, h) -> None:
    """Start a flow on direction d carrying the batch chain from `head`: its bytes, end event, the
    wake-ups of the digests it carries, and its place at the end of the receiver's inbox. The end
    is scheduled before the wake-ups, as in the SimPy engine: with zero latency the last item lands
    as the flow ends, and that tie must go the same way in both."""
    fid = c[N_FLOWS]
    c[N_FLOWS] = fid + 1
    dst = d_dst[d]
    total, n, npkg = 0.0, 0, 0
    b = head
    while b >= 0:
        for k in range(bt[b, OFF], bt[b, OFF] + bt[b, LEN]):
            x = items[k]
            if x < 0:
                total += tsize[bt[b, SLOT]]
            else:
                total += sizes[x]
                npkg += 1
            if n == 0:
                fs[fid, ARRIVE] = now + total / bw[d] + lat[d]
            n += 1
        b = bt[b, NEXT]
    push_event(h, c, now + total / bw[d], d * 4 + FLOW_END, 0)
    if npkg < n:  # digests on board: wake their receiver when each lands (the same sums again)
        cum = 0.0
        b = head
        while b >= 0:
            for k in range(bt[b, OFF], bt[b, OFF] + bt[b, LEN]):
                x = items[k]
                cum += tsize[bt[b, SLOT]] if x < 0 else sizes[x]
                if x < 0:
                    wake = event_rank(RANK_WAKE, dst, len(tok_in))  # tok_in: one entry per agent
                    push_event(h, c, now + cum / bw[d] + lat[d], dst * 4 + WAKE, wake)
                    tok_in[dst] += 1
            b = bt[b, NEXT]
    fs[fid, START], fs[fid, BYTES], fs[fid, CUM] = now, total, 0.0
    fi[fid, DIR], fi[fid, FIRST], fi[fid, NITEMS], fi[fid, CB], fi[fid, CK], fi[fid, NEXT_IN] = d, head, n, head, 0, -1
    c[INCOMING] += npkg
    c[QUEUED] -= npkg
    if inbox_tail[dst] >= 0:
        fi[inbox_tail[dst], NEXT_IN] = fid
    else:
        inbox_head[dst] = fid
    inbox_tail[dst] = fid
    d_busy[d] = fid


@njit(cache=True, error_model="numpy", _nrt=False)
def collect(v, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, d_src, bits, n_held, holders, n_agents,
             known_at, merge_free, student, rates, no_merge, tok_in, inbox_head, inbox_tail, scratch):
    """Take in every item that has reached agent v by time t, in arrival order (ties: the smaller
    sender, then the flow that started first), as Knowledge.collect and the engine's catch_up do:
    bank new packages (merge times, holders), list the digests in `scratch` as (slot, direction).
    Returns the number of digests and the student MACs of the packages banked (-1.0 when none was
    new)."""
    n_tok = 0
    got = 0.0
    any_new = False
    while True:
        best, best_t, best_src = -1, np.inf, -1
        f = inbox_head[v]
        while f >= 0:  # in start order: the first of equal (arrival, sender) wins
            a = fs[f, ARRIVE]
            if fi[f, CB] >= 0 and a <= t and (a < best_t or a == best_t and d_src[fi[f, DIR]] < best_src):
                best, best_t, best_src = f, a, d_src[fi[f, DIR]]
            f = fi[f, NEXT_IN]
        if best < 0:
            break
        f = best
        d = fi[f, DIR]
        b, k = fi[f, CB], fi[f, CK]
        # f's items come first while they land by t, before the next item of every flow that wins
        # ties against f and no later than every other flow's (ties go to the smaller sender, then
        # to the flow that started first; inbox order = start order), and the other flows do not
        # move meanwhile: two bounds, found once
        before, after = np.inf, np.inf
        g = inbox_head[v]
        while g >= 0:
            if g != f and fi[g, CB] >= 0:
                sg = d_src[fi[g, DIR]]
                if sg < best_src or sg == best_src and g < f:
                    before = min(before, fs[g, ARRIVE])
                else:
                    after = min(after, fs[g, ARRIVE])
            g = fi[g, NEXT_IN]
        after = min(after, t)
        while True:  # take f's items while they come before every other flow's next item
            p = items[bt[b, OFF] + k]
            if p < 0:
                scratch[n_tok, 0], scratch[n_tok, 1] = bt[b, SLOT], d
                n_tok += 1
                tok_in[v] -= 1
                fs[f, CUM] += tsize[bt[b, SLOT]]
            else:
                c[INCOMING] -= 1
                fs[f, CUM] += sizes[p]
                if not holds(bits, v, p):
                    hold(bits, n_held, holders, c, n_agents, v, p)
                    if no_merge:
                        done = fs[f, ARRIVE]
                    else:
                        done = student[p] / rates[v] + max(fs[f, ARRIVE], merge_free[v])
                        merge_free[v] = done
                    known_at[v, p] = done
                    got += student[p]
                    any_new = True
            k += 1
            if k == bt[b, LEN]:
                b, k = bt[b, NEXT], 0
            if b < 0:
                break
            q = items[bt[b, OFF] + k]
            size = tsize[bt[b, SLOT]] if q < 0 else sizes[q]
            fs[f, ARRIVE] = fs[f, START] + (fs[f, CUM] + size) / bw[d] + lat[d]
            if not (fs[f, ARRIVE] < before and fs[f, ARRIVE] <= after):
                break
        fi[f, CB], fi[f, CK] = b, k
    f, prev = inbox_head[v], -1  # drop the flows taken in whole
    while f >= 0:
        nxt = fi[f, NEXT_IN]
        if fi[f, CB] < 0:
            if prev >= 0:
                fi[prev, NEXT_IN] = nxt
            else:
                inbox_head[v] = nxt
        else:
            prev = f
        f = nxt
    inbox_tail[v] = prev
    return n_tok, got if any_new else -1.0
