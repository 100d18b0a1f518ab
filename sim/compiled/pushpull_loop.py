"""A compiled event loop (numba) for push_pull (anti-entropy) over independent links.

The scope is sim/compiled/flood_loop.py's: no NIC limit, no serial receive, no loss, no failure, so every link
direction is a FIFO pipe (a flow starts when the direction is idle, or when its previous flow ends,
and carries everything queued by then; item i leaves at start + cum_i / bandwidth and arrives
`latency` later). Unlike flood, a package that arrives triggers nothing, so arrivals are not events
here either: as in the SimPy engine (sim/engine/knowledge.py), each agent keeps an inbox of the flows coming
to it and catches up on what has arrived, in arrival order, at the moments it must act: when it
learns a task, when its timer fires, when a digest reaches it, and when one of its directions is
about to send. The loop mirrors those moments, and the protocol's stop test reads the banks as far
as caught up, as SimPy's does; timer phases and neighbour choices are sim.draws' counter-based draws.
tests/sim/compiled/test_loops.py checks that both engines agree bit for bit, exact ties included. The
flows and inboxes are in sim/compiled/pushpull_inbox.py. As in flood_loop.py, the core (`_advance`)
holds no reference counts and grows nothing: it returns before an event that may lack room, and
`run_loop` grows the tables and calls it again.

Events (one binary heap, ordered by time, then rank as in the SimPy engine, then scheduling order):
a flow's last byte leaving its direction, a digest landing (a wake-up of its receiver), a publish,
an agent's timer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import draws
from sim.compiled.contract import LoopInput, LoopOutput
from sim.compiled.heap import capacity, grow_heap, new_heap, payload_of, pop_top, top_time
from sim.compiled.memory import grow, grow_rows, huge
from sim.compiled.pushpull_inbox import (
    ANSWER, ASK, BYTES, CLAIMED, DIR, END, EVENTS, FIRST, FLOW_END, FREE_SLOT, H_N, IDLE, INCOMING, LEN,
    N_BATCHES, N_COUNTERS, N_FLOWS, N_ITEMS, N_SLOTS, NEXT, NEXT_TOKEN, NITEMS, OFF, PARTIAL, PUBLISH, QUEUED, SLOT,
    START, TIMER, collect, event_rank, hold, holds, open_flow, push_event,
)
from sim.ranks import LEARNED as RANK_LEARNED, TIMER as RANK_TIMER

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)


@njit(cache=True, inline="always", error_model="numpy")
def mix64(z):
    """sim.draws.mix64 on uint64 (multiplications wrap, as the Python version masks)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always", error_model="numpy")
def draw(key, counter):
    """sim.draws.draw: number `counter` of stream `key`."""
    return mix64(key + np.uint64(counter + 1) * GOLDEN)


@njit(cache=True, error_model="numpy")
def _debruijn_table() -> np.ndarray:
    """Bit index of each isolated bit, by de Bruijn multiplication (a trailing-zero count)."""
    table = np.zeros(64, dtype=np.int64)
    for i in range(64):
        table[((np.uint64(1) << np.uint64(i)) * DEBRUIJN) >> np.uint64(58)] = i
    return table


UNFINISHED, GAVE_UP = N_COUNTERS, N_COUNTERS + 1  # more counters, the loop's own
LAST_CHANGE, MACS = range(2)  # the loop's float state: when a bank last changed, student MACs


@njit(cache=True, inline="always", error_model="numpy")
def _has_room(v, c, tok_in, n_tasks, n_agents, n_pub, n_dirs, items, bt, fs, tsize, scratch, h) -> bool:
    """Room for the worst an event of agent v can add: every digest on its way to v answered, one
    more sent (run_loop grows the tables otherwise)."""
    sends = tok_in[v] + 2
    return (c[N_ITEMS] + sends * (n_tasks + 1) <= len(items) and c[N_BATCHES] + sends <= len(bt)
            and c[N_FLOWS] + sends <= len(fs) and c[N_SLOTS] + sends <= len(tsize) and tok_in[v] <= len(scratch)
            and n_agents + n_pub + n_dirs + len(tsize) + 2 * sends <= capacity(h))


@njit(cache=True, inline="always", error_model="numpy")
def _copy_row(dst, i, src, j) -> None:
    """dst[i, :] = src[j, :], word by word (the core allocates nothing, not even a temporary)."""
    for w in range(dst.shape[1]):
        dst[i, w] = src[j, w]


@njit(cache=True, inline="always", error_model="numpy")
def _answer_waiting(v, d, q_head, bt, tkind, snap, tsize, bits, n_held, digest_bytes) -> bool:
    """An answer of v's still waiting on direction d lists what v holds now instead (True: there was one)."""
    b = q_head[d]
    while b >= 0:
        if bt[b, SLOT] >= 0 and tkind[bt[b, SLOT]] == ANSWER:
            _copy_row(snap, bt[b, SLOT], bits, v)
            tsize[bt[b, SLOT]] = float(digest_bytes * n_held[v])
            return True
        b = bt[b, NEXT]
    return False


@njit(cache=True, inline="always", error_model="numpy")
def _list_missing(v, d, slot, pos, q_head, bt, items, bits, snap, want, table) -> int:
    """Append to `items` from `pos` what v holds that digest `slot` lacks and is not queued on d
    already, in task order; returns the position after them."""
    for w in range(len(want)):
        want[w] = bits[v, w] & ~snap[slot, w]
    b = q_head[d]
    while b >= 0:
        for k in range(bt[b, OFF], bt[b, OFF] + bt[b, LEN]):
            q = items[k]
            if q >= 0:
                want[q >> 6] &= ~(np.uint64(1) << np.uint64(q & 63))
        b = bt[b, NEXT]
    for w in range(len(want)):
        word = want[w]
        while word != 0:
            low = word & (~word + np.uint64(1))
            items[pos] = (w << 6) + table[(low * DEBRUIJN) >> np.uint64(58)]
            pos += 1
            word ^= low
    return pos


@njit(cache=True, inline="always", error_model="numpy")
def _new_digest(v, kind, c, snap, tsize, tkind, bits, n_held, digest_bytes) -> int:
    """A slot for v's digest (of kind ASK or ANSWER) listing what v holds now; returns the slot."""
    s = c[FREE_SLOT]
    if s >= 0:
        c[FREE_SLOT] = tkind[s]
    else:
        s = c[N_SLOTS]
        c[N_SLOTS] = s + 1
    _copy_row(snap, s, bits, v)
    tsize[s] = float(digest_bytes * n_held[v])
    tkind[s] = kind
    return s


@njit(cache=True, inline="always", error_model="numpy")
def _timer_direction(v, t, c, out_ptr, out_dir, keys, rounds, d_busy, q_head, h, f, period, idle_s,
                     max_rounds, n_agents) -> int:
    """v's timer fires: the direction it asks on this round, or -1 when it does not (rounds ran
    out, nothing can be new, exchanges gave up, or the link is busy: then the round is skipped)."""
    r = rounds[v]
    if max_rounds >= 0 and r >= max_rounds:
        return -1
    if c[UNFINISHED] == 0 and c[PARTIAL] == 0:  # no exchange can bring news
        return -1
    if c[GAVE_UP] or (c[UNFINISHED] == 0 and t - f[LAST_CHANGE] > idle_s and c[QUEUED] == 0 and c[INCOMING] == 0):
        c[GAVE_UP] = 1  # idle_rounds ran out: every timer stops
        return -1
    deg = out_ptr[v + 1] - out_ptr[v]
    d_ask = out_dir[out_ptr[v] + np.int64(draw(keys[v], r + 1) % np.uint64(deg))]
    rounds[v] = r + 1
    if d_busy[d_ask] != IDLE or q_head[d_ask] >= 0:  # the link is still sending: this round is skipped
        push_event(h, c, t + period, v * 4 + TIMER, event_rank(RANK_TIMER, v, n_agents))
        return -1
    return d_ask


@njit(cache=True, error_model="numpy", _nrt=False)
def _advance(n_agents, n_tasks, out_ptr, out_dir, src, dst, bw, lat, sizes, pub_t, pub_agent, pub_task, student,
             rates, keys, period, digest_bytes, idle_s, max_rounds, bits, known_at, merge_free, n_held, holders,
             no_merge, rounds, left, tok_in, inbox_head, inbox_tail, d_busy, q_head, q_tail, d_rev, c, f, items, bt,
             fs, fi, snap, tsize, tkind, scratch, want, table, h) -> bool:
    """The loop's core: every event in time order, until none is left (returns True) or a growable
    table may lack room for the next one (returns False before taking it: run_loop grows the table
    and calls again). Tables are never replaced in here, so the loop holds no reference counts."""
    n_dirs = len(src)
    while c[H_N] > 0:
        t, code = top_time(h), payload_of(h, 1)
        kind, x = code & 3, code >> 2
        v = pub_agent[x] if kind == PUBLISH else (src[x] if kind == FLOW_END else x)
        if not _has_room(v, c, tok_in, n_tasks, n_agents, len(pub_t), n_dirs, items, bt, fs, tsize, scratch, h):
            return False
        c[H_N] = pop_top(h, c[H_N])
        c[EVENTS] += 1
        d_ask = -1
        if kind == TIMER:
            d_ask = _timer_direction(v, t, c, out_ptr, out_dir, keys, rounds, d_busy, q_head, h, f,
                                     period, idle_s, max_rounds, n_agents)
            if d_ask < 0:
                continue
        elif kind == PUBLISH:
            f[LAST_CHANGE] = t
            left[v] -= 1
            if left[v] == 0:
                c[UNFINISHED] -= 1
        elif kind == FLOW_END:
            fs[d_busy[x], END] = t
            d_busy[x] = CLAIMED  # sends while the sender catches up only queue

        # -- catch up: take in every item arrived at v by t, in arrival order ------------------------
        n_tok, got = collect(v, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, src, bits, n_held, holders, n_agents,
                             known_at, merge_free, student, rates, no_merge, tok_in, inbox_head, inbox_tail, scratch)
        if got >= 0:
            f[LAST_CHANGE] = t
            f[MACS] += got

        # -- then act: answer the digests taken in, or what brought v here -------------------------
        for j in range(n_tok + 1):
            if j < n_tok:
                slot, d = scratch[j, 0], d_rev[scratch[j, 1]]
                answer = tkind[slot] == ASK  # an ask gets a digest back; both get what they lack
                if answer and _answer_waiting(v, d, q_head, bt, tkind, snap, tsize, bits, n_held, digest_bytes):
                    answer = False  # the packages follow the waiting answer, no second digest
            elif kind == TIMER:
                slot, d, answer = -1, d_ask, True
            else:
                break
            start = c[N_ITEMS]
            pos = start + 1 if answer else start
            if slot >= 0:  # what v holds that the digest lacks; the digest is answered: free its slot
                pos = _list_missing(v, d, slot, pos, q_head, bt, items, bits, snap, want, table)
                tkind[slot] = c[FREE_SLOT]
                c[FREE_SLOT] = slot
            s = -1
            if answer:  # v's own digest goes first
                s = _new_digest(v, ASK if j == n_tok else ANSWER, c, snap, tsize, tkind, bits, n_held, digest_bytes)
                items[start] = c[NEXT_TOKEN]
                c[NEXT_TOKEN] -= 1
            if pos == start:
                continue  # nothing to send
            b = c[N_BATCHES]
            c[N_BATCHES] = b + 1
            bt[b, OFF], bt[b, LEN], bt[b, NEXT], bt[b, SLOT] = start, pos - start, -1, s
            c[N_ITEMS] = pos
            c[QUEUED] += pos - start - (1 if answer else 0)
            if d_busy[d] == IDLE:
                open_flow(d, b, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, dst, d_busy, inbox_head, inbox_tail,
                          tok_in, h)
            else:
                if q_tail[d] >= 0:
                    bt[q_tail[d], NEXT] = b
                else:
                    q_head[d] = b
                q_tail[d] = b

        if kind == PUBLISH:
            p = pub_task[x]
            if not holds(bits, v, p):
                hold(bits, n_held, holders, c, n_agents, v, p)
                known_at[v, p] = t
                merge_free[v] = max(merge_free[v], t)
        elif kind == FLOW_END:
            d_busy[x] = IDLE
            if q_head[x] >= 0:
                head = q_head[x]
                q_head[x] = q_tail[x] = -1
                open_flow(x, head, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, dst, d_busy, inbox_head, inbox_tail,
                          tok_in, h)
        elif kind == TIMER:  # the next round
            push_event(h, c, t + period, v * 4 + TIMER, event_rank(RANK_TIMER, v, n_agents))
    return True


@njit(cache=True, error_model="numpy")
def _item_lists(n_flows, fi, bt, items, keep_items):
    """With keep_items, each item's flow and id, flow by flow in send order (else empty)."""
    n_kept = int(fi[:n_flows, NITEMS].sum()) if keep_items else 0
    i_fid = np.empty(n_kept, dtype=np.int64)
    i_pkg = np.empty(n_kept, dtype=np.int32)
    j = 0
    for fid in range(n_flows if keep_items else 0):
        b = fi[fid, FIRST]
        while b >= 0:
            for k in range(bt[b, OFF], bt[b, OFF] + bt[b, LEN]):
                i_fid[j], i_pkg[j] = fid, items[k]
                j += 1
            b = bt[b, NEXT]
    return i_fid, i_pkg


@njit(cache=True, error_model="numpy")
def _held(bits, n_agents, n_tasks):
    """The banks as an (agents x tasks) bool table."""
    held = np.zeros((n_agents, n_tasks), dtype=np.bool_)
    for v in range(n_agents):
        for p in range(n_tasks):
            held[v, p] = holds(bits, v, p)
    return held


@njit(cache=True, error_model="numpy")
def _first_events(h, c, pub_t, pub_agent, out_ptr, keys, period, n_agents) -> None:
    """Every publish, and each agent's first timer at a drawn phase of its period."""
    for i in range(len(pub_t)):
        push_event(h, c, pub_t[i], i * 4 + PUBLISH, event_rank(RANK_LEARNED, pub_agent[i], n_agents))
    for a in range(n_agents):
        if out_ptr[a + 1] > out_ptr[a]:
            u = (draw(keys[a], 0) >> np.uint64(11)) * (2.0 ** -53)
            push_event(h, c, u * period, a * 4 + TIMER, event_rank(RANK_TIMER, a, n_agents))


@njit(cache=True, error_model="numpy")
def run_loop(n_agents, n_tasks, out_ptr, out_dir, src, dst, bw, lat, sizes, pub_t, pub_agent, pub_task,
             student, rates, keys, period, digest_bytes, idle_s, max_rounds, keep_items, cap):
    """Simulate push_pull: publishes, timers, flows and digests in time order.

    out_ptr/out_dir: each agent's outgoing directions (CSR, in direction order); src/dst/bw/lat: per
    direction; sizes/student: per task; pub_*: publish events; keys: each agent's draw stream;
    period, digest_bytes (per held id), idle_s (stop after this long without news), max_rounds (-1:
    none). Returns what sim.compiled.flood_loop.run_loop returns: banks, merge times, student MACs, events, and
    the flows (start, end, direction, bytes, items) plus, with keep_items, each item's flow and id.
    """
    n_dirs, n_words = len(src), (n_tasks + 63) >> 6
    bits = np.zeros((n_agents, n_words), dtype=np.uint64)
    known_at = np.empty((n_agents, n_tasks))
    huge(known_at)
    known_at[:] = np.inf
    merge_free = np.zeros(n_agents)
    n_held = np.zeros(n_agents, dtype=np.int64)
    holders = np.zeros(n_tasks, dtype=np.int64)
    no_merge = not (student > 0).any()
    rounds = np.zeros(n_agents, dtype=np.int64)
    left = np.zeros(n_agents, dtype=np.int64)  # tasks each agent has still to learn
    for a in pub_agent:
        left[a] += 1
    tok_in = np.zeros(n_agents, dtype=np.int64)  # digests on their way to each agent, not taken in
    inbox_head = np.full(n_agents, -1, dtype=np.int64)
    inbox_tail = np.full(n_agents, -1, dtype=np.int64)
    d_busy = np.full(n_dirs, IDLE, dtype=np.int64)
    q_head = np.full(n_dirs, -1, dtype=np.int64)
    q_tail = np.full(n_dirs, -1, dtype=np.int64)
    d_rev = np.empty(n_dirs, dtype=np.int64)
    for d in range(n_dirs):  # link_table lists both directions of a link next to each other
        d_rev[d] = d + 1 if d % 2 == 0 else d - 1
    c = np.zeros(N_COUNTERS + 2, dtype=np.int64)
    c[FREE_SLOT], c[NEXT_TOKEN], c[UNFINISHED] = -1, -1, int((left > 0).sum())
    f = np.zeros(2)  # LAST_CHANGE, MACS
    cap = max(cap, 1)
    items = np.empty(64 * cap, dtype=np.int32)  # every item sent, in send order, batch by batch
    huge(items)
    bt = np.empty((cap, 4), dtype=np.int64)
    fs = np.empty((cap, 5))
    fi = np.empty((cap, 6), dtype=np.int64)
    snap = np.empty((max(1, cap // 16), n_words), dtype=np.uint64)  # each digest in flight: the bank it lists
    tsize = np.empty(len(snap))  # ... its bytes
    tkind = np.empty(len(snap), dtype=np.int64)  # ... ASK or ANSWER; a free slot: the next free one
    scratch = np.empty((max(1, cap // 64), 2), dtype=np.int64)  # digests taken in by one catch-up: (slot, direction)
    want = np.empty(n_words, dtype=np.uint64)
    table = _debruijn_table()
    room = n_agents + len(pub_t) + n_dirs + 64
    h = new_heap(room)
    _first_events(h, c, pub_t, pub_agent, out_ptr, keys, period, n_agents)
    while not _advance(n_agents, n_tasks, out_ptr, out_dir, src, dst, bw, lat, sizes, pub_t, pub_agent, pub_task,
                       student, rates, keys, period, digest_bytes, idle_s, max_rounds, bits, known_at, merge_free,
                       n_held, holders, no_merge, rounds, left, tok_in, inbox_head, inbox_tail, d_busy, q_head,
                       q_tail, d_rev, c, f, items, bt, fs, fi, snap, tsize, tkind, scratch, want, table, h):
        # the event at the heap's top needs more room: grow what it may fill
        code = payload_of(h, 1)
        kind, x = code & 3, code >> 2
        v = pub_agent[x] if kind == PUBLISH else (src[x] if kind == FLOW_END else x)
        sends = tok_in[v] + 2
        items = grow(items, c[N_ITEMS] + sends * (n_tasks + 1))
        while c[N_BATCHES] + sends > len(bt):
            bt = grow_rows(bt)
        while c[N_FLOWS] + sends > len(fs):
            fs, fi = grow_rows(fs), grow_rows(fi)
        while c[N_SLOTS] + sends > len(tsize):
            snap, tsize, tkind = grow_rows(snap), grow(tsize, 2 * len(tsize)), grow(tkind, 2 * len(tkind))
        if tok_in[v] > len(scratch):
            scratch = np.empty((2 * tok_in[v], 2), dtype=np.int64)
        if n_agents + len(pub_t) + n_dirs + len(tsize) + 2 * sends > capacity(h):
            h = grow_heap(h, c[H_N], n_agents + len(pub_t) + n_dirs + 2 * len(tsize) + 2 * sends)
    for v in range(n_agents):  # packages that land after the last event are taken in, as in SimPy
        got = collect(v, np.inf, c, fs, fi, bt, items, tsize, sizes, bw, lat, src, bits, n_held, holders, n_agents,
                      known_at, merge_free, student, rates, no_merge, tok_in, inbox_head, inbox_tail, scratch)[1]
        if got >= 0:
            f[MACS] += got
    n_flows = c[N_FLOWS]
    i_fid, i_pkg = _item_lists(n_flows, fi, bt, items, keep_items)
    return (_held(bits, n_agents, n_tasks), known_at, f[MACS], c[EVENTS], fs[:n_flows, START].copy(),
            fs[:n_flows, END].copy(), fi[:n_flows, DIR].copy(), fs[:n_flows, BYTES].copy(), fi[:n_flows, NITEMS].copy(),
            i_fid, i_pkg)


def run(inp: LoopInput) -> LoopOutput:
    """Run push_pull on the compiled loop."""
    gossip = inp.gossip
    keys = np.array([draws.stream_key(inp.seed, "push_pull", a) for a in range(inp.n_agents)], dtype=np.uint64)
    max_rounds = -1 if gossip.max_rounds is None else gossip.max_rounds
    out = run_loop(
        inp.n_agents, inp.n_tasks, inp.out_ptr, inp.out_dir, inp.src, inp.dst, inp.bandwidth, inp.latency,
        inp.sizes, inp.pub_t, inp.pub_agent, inp.pub_task, inp.student, inp.rates, keys, gossip.period_s,
        gossip.digest_bytes_per_id, gossip.idle_s, max_rounds, inp.keep_items,
        1024 if inp.capacity is None else inp.capacity)
    return LoopOutput(*out, dir_bytes=np.bincount(out[6], weights=out[7], minlength=len(inp.src)))
