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
flows and inboxes are in sim/compiled/pushpull_inbox.py.

Events (one binary heap, ordered by time, then rank as in the SimPy engine, then scheduling order):
a flow's last byte leaving its direction, a digest landing (a wake-up of its receiver), a publish,
an agent's timer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import draws
from sim.compiled.contract import LoopInput, LoopOutput
from sim.compiled.heap import sift_down
from sim.compiled.memory import grow, grow_rows, huge
from sim.compiled.pushpull_inbox import (
    ANSWER, ASK, BYTES, CLAIMED, DIR, END, EVENTS, FIRST, FLOW_END, FREE_SLOT, H_N, IDLE, INCOMING, LEN,
    N_BATCHES, N_FLOWS, N_ITEMS, N_SLOTS, NEXT, NEXT_TOKEN, NITEMS, OFF, PARTIAL, PUBLISH, QUEUED, SLOT,
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
    unfinished = int((left > 0).sum())
    tok_in = np.zeros(n_agents, dtype=np.int64)  # digests on their way to each agent, not taken in
    inbox_head = np.full(n_agents, -1, dtype=np.int64)
    inbox_tail = np.full(n_agents, -1, dtype=np.int64)
    d_busy = np.full(n_dirs, IDLE, dtype=np.int64)
    q_head = np.full(n_dirs, -1, dtype=np.int64)
    q_tail = np.full(n_dirs, -1, dtype=np.int64)
    d_rev = np.empty(n_dirs, dtype=np.int64)
    for d in range(n_dirs):  # link_table lists both directions of a link next to each other
        d_rev[d] = d + 1 if d % 2 == 0 else d - 1
    c = np.zeros(12, dtype=np.int64)
    c[FREE_SLOT], c[NEXT_TOKEN] = -1, -1
    last_change, student_macs = 0.0, 0.0
    gave_up = False
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
    cap = n_agents + len(pub_t) + n_dirs + 64
    h_t, h_s, h_c = np.empty(cap), np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
    for i in range(len(pub_t)):
        push_event(h_t, h_s, h_c, c, pub_t[i], i * 4 + PUBLISH, event_rank(RANK_LEARNED, pub_agent[i], n_agents))
    for a in range(n_agents):
        if out_ptr[a + 1] > out_ptr[a]:
            u = (draw(keys[a], 0) >> np.uint64(11)) * (2.0 ** -53)
            push_event(h_t, h_s, h_c, c, u * period, a * 4 + TIMER, event_rank(RANK_TIMER, a, n_agents))
    while c[H_N] > 0:
        t, code = h_t[0], h_c[0]
        n = c[H_N] - 1
        h_t[0], h_s[0], h_c[0] = h_t[n], h_s[n], h_c[n]
        c[H_N] = n
        sift_down(h_t, h_s, h_c, n, 0)
        c[EVENTS] += 1
        kind, x = code & 3, code >> 2
        v = pub_agent[x] if kind == PUBLISH else (src[x] if kind == FLOW_END else x)
        # room for the worst this event can add: every digest on its way to v answered, one more sent
        sends = tok_in[v] + 2
        need = c[N_ITEMS] + sends * (n_tasks + 1)
        if need > len(items):
            items = grow(items, need)
        while c[N_BATCHES] + sends > len(bt):
            bt = grow_rows(bt)
        while c[N_FLOWS] + sends > len(fs):
            fs, fi = grow_rows(fs), grow_rows(fi)
        while c[N_SLOTS] + sends > len(tsize):
            snap, tsize, tkind = grow_rows(snap), grow(tsize, 2 * len(tsize)), grow(tkind, 2 * len(tkind))
        if tok_in[v] > len(scratch):
            scratch = np.empty((2 * tok_in[v], 2), dtype=np.int64)
        if n_agents + len(pub_t) + n_dirs + len(tsize) + 2 * sends > len(h_t):
            room = n_agents + len(pub_t) + n_dirs + 2 * len(tsize) + 2 * sends
            h_t, h_s, h_c = grow(h_t, room), grow(h_s, room), grow(h_c, room)

        if kind == TIMER:
            r = rounds[v]
            if max_rounds >= 0 and r >= max_rounds:
                continue
            if unfinished == 0 and c[PARTIAL] == 0:  # no exchange can bring news
                continue
            if gave_up or (unfinished == 0 and t - last_change > idle_s and c[QUEUED] == 0 and c[INCOMING] == 0):
                gave_up = True  # idle_rounds ran out: every timer stops
                continue
            deg = out_ptr[v + 1] - out_ptr[v]
            d_ask = out_dir[out_ptr[v] + np.int64(draw(keys[v], r + 1) % np.uint64(deg))]
            rounds[v] = r + 1
            if d_busy[d_ask] != IDLE or q_head[d_ask] >= 0:  # the link is still sending: this round is
                push_event(h_t, h_s, h_c, c, t + period, v * 4 + TIMER, event_rank(RANK_TIMER, v, n_agents))  # skipped
                continue
        elif kind == PUBLISH:
            last_change = t
            left[v] -= 1
            if left[v] == 0:
                unfinished -= 1
        elif kind == FLOW_END:
            fs[d_busy[x], END] = t
            d_busy[x] = CLAIMED  # sends while the sender catches up only queue

        # -- catch up: take in every item arrived at v by t, in arrival order ------------------------
        n_tok, got = collect(v, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, src, bits, n_held, holders, n_agents,
                              known_at, merge_free, student, rates, no_merge, tok_in, inbox_head, inbox_tail, scratch)
        if got >= 0:
            last_change = t
            student_macs += got

        # -- then act: answer the digests taken in, or what brought v here -------------------------
        for j in range(n_tok + 1):
            if j < n_tok:
                slot, d = scratch[j, 0], d_rev[scratch[j, 1]]
                answer = tkind[slot] == ASK  # an ask gets a digest back; both get what they lack
                if answer:  # an answer still waiting on d lists what v holds now instead
                    b = q_head[d]
                    while b >= 0:
                        if bt[b, SLOT] >= 0 and tkind[bt[b, SLOT]] == ANSWER:
                            snap[bt[b, SLOT], :] = bits[v, :]
                            tsize[bt[b, SLOT]] = float(digest_bytes * n_held[v])
                            answer = False  # the packages follow it, no second digest
                            break
                        b = bt[b, NEXT]
            elif kind == TIMER:
                slot, d, answer = -1, d_ask, True
            else:
                break
            start = c[N_ITEMS]
            pos = start + 1 if answer else start
            if slot >= 0:  # what v holds that the digest lacks and is not queued on d already
                for w in range(n_words):
                    want[w] = bits[v, w] & ~snap[slot, w]
                b = q_head[d]
                while b >= 0:
                    for k in range(bt[b, OFF], bt[b, OFF] + bt[b, LEN]):
                        q = items[k]
                        if q >= 0:
                            want[q >> 6] &= ~(np.uint64(1) << np.uint64(q & 63))
                    b = bt[b, NEXT]
                for w in range(n_words):
                    word = want[w]
                    while word != 0:
                        low = word & (~word + np.uint64(1))
                        items[pos] = (w << 6) + table[(low * DEBRUIJN) >> np.uint64(58)]
                        pos += 1
                        word ^= low
                tkind[slot] = c[FREE_SLOT]  # the digest is answered: free its slot
                c[FREE_SLOT] = slot
            if answer:  # v's own digest goes first
                s = c[FREE_SLOT]
                if s >= 0:
                    c[FREE_SLOT] = tkind[s]
                else:
                    s = c[N_SLOTS]
                    c[N_SLOTS] = s + 1
                snap[s, :] = bits[v, :]
                tsize[s] = float(digest_bytes * n_held[v])
                tkind[s] = ASK if j == n_tok else ANSWER
                items[start] = c[NEXT_TOKEN]
                c[NEXT_TOKEN] -= 1
            else:
                s = -1
            if pos == start:
                continue  # nothing to send
            b = c[N_BATCHES]
            c[N_BATCHES] = b + 1
            bt[b, OFF], bt[b, LEN], bt[b, NEXT], bt[b, SLOT] = start, pos - start, -1, s
            c[N_ITEMS] = pos
            c[QUEUED] += pos - start - (1 if answer else 0)
            if d_busy[d] == IDLE:
                open_flow(d, b, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, dst, d_busy, inbox_head, inbox_tail,
                      tok_in, h_t, h_s, h_c)
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
                      tok_in, h_t, h_s, h_c)
        elif kind == TIMER:  # the next round
            push_event(h_t, h_s, h_c, c, t + period, v * 4 + TIMER, event_rank(RANK_TIMER, v, n_agents))

    for v in range(n_agents):  # packages that land after the last event are taken in, as in SimPy
        n_tok, got = collect(v, np.inf, c, fs, fi, bt, items, tsize, sizes, bw, lat, src, bits, n_held, holders,
                              n_agents, known_at, merge_free, student, rates, no_merge, tok_in, inbox_head,
                              inbox_tail, scratch)
        if got >= 0:
            student_macs += got
    n_flows = c[N_FLOWS]
    held = np.zeros((n_agents, n_tasks), dtype=np.bool_)
    for v in range(n_agents):
        for p in range(n_tasks):
            held[v, p] = holds(bits, v, p)
    f_dir = fi[:n_flows, DIR].copy()
    f_items = fi[:n_flows, NITEMS].copy()
    n_kept = int(f_items.sum()) if keep_items else 0
    i_fid = np.empty(n_kept, dtype=np.int64)
    i_pkg = np.empty(n_kept, dtype=np.int32)
    if keep_items:
        j = 0
        for f in range(n_flows):
            b = fi[f, FIRST]
            while b >= 0:
                for k in range(bt[b, OFF], bt[b, OFF] + bt[b, LEN]):
                    i_fid[j], i_pkg[j] = f, items[k]
                    j += 1
                b = bt[b, NEXT]
    return (held, known_at, student_macs, c[EVENTS], fs[:n_flows, START].copy(), fs[:n_flows, END].copy(),
            f_dir, fs[:n_flows, BYTES].copy(), f_items, i_fid, i_pkg)


def run(inp: LoopInput) -> LoopOutput:
    """Run push_pull on the compiled loop."""
    gossip = inp.gossip
    keys = np.array([draws.stream_key(inp.seed, "push_pull", a) for a in range(inp.n_agents)], dtype=np.uint64)
    max_rounds = -1 if gossip.max_rounds is None else gossip.max_rounds
    return LoopOutput(*run_loop(
        inp.n_agents, inp.n_tasks, inp.out_ptr, inp.out_dir, inp.src, inp.dst, inp.bandwidth, inp.latency,
        inp.sizes, inp.pub_t, inp.pub_agent, inp.pub_task, inp.student, inp.rates, keys, gossip.period_s,
        gossip.digest_bytes_per_id, gossip.idle_s, max_rounds, inp.keep_items, inp.capacity))
