"""A compiled event loop (numba) for push_pull (anti-entropy) over independent links.

The scope is sim/kernel.py's: no NIC limit, no serial receive, no loss, no failure, so every link
direction is a FIFO pipe (a flow starts when the direction is idle, or when its previous flow ends,
and carries everything queued by then; item i leaves at start + cum_i / bandwidth and arrives
`latency` later). Unlike flood, a package that arrives triggers nothing, so arrivals are not events
here either: as in the SimPy engine (knowledge.py), each agent keeps an inbox of the flows coming
to it and catches up on what has arrived, in arrival order, at the moments it must act: when it
learns a task, when its timer fires, when a digest reaches it, and when one of its directions is
about to send. The loop mirrors those moments, and the protocol's stop test reads the banks as far
as caught up, as SimPy's does; timer phases and neighbour choices are sim.draws' counter-based draws.
tests/sim/test_compiled.py checks that both engines agree bit for bit, exact ties included.

Events (one binary heap, ordered by time, then rank as in the SimPy engine, then scheduling order):
a flow's last byte leaving its direction, a digest landing (a wake-up of its receiver), a publish,
an agent's timer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.flows import LEARNED as RANK_LEARNED, TIMER as RANK_TIMER, WAKE as RANK_WAKE
from sim.kernel import _grow, _grow_rows, _huge, _sift_down, _sift_up

PUBLISH, TIMER, FLOW_END, WAKE = range(4)  # event kinds: code = subject * 4 + kind
RANK_SHIFT = 40  # an event's heap key: rank << RANK_SHIFT | sequence number (see sim.flows.rank)
ASK, ANSWER = 0, 1  # digest kinds
IDLE, CLAIMED = -1, -2  # a direction's flow id when it carries none
OFF, LEN, NEXT, SLOT = range(4)  # columns of a batch row (SLOT: its digest's slot, or -1)
START, END, BYTES, CUM, ARRIVE = range(5)  # float columns of a flow row (CUM, ARRIVE: the inbox cursor)
DIR, FIRST, NITEMS, CB, CK, NEXT_IN = range(6)  # int columns of a flow row (CB, CK: cursor batch, index)
# the loop's counters, in one array so that helpers can update them
N_ITEMS, N_BATCHES, N_FLOWS, H_N, SEQ, FREE_SLOT, N_SLOTS, NEXT_TOKEN, QUEUED, INCOMING, PARTIAL, EVENTS = range(12)
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


@njit(cache=True, inline="always", error_model="numpy")
def _rank(kind, agent, n_agents):
    """sim.flows.rank in the loop's terms: flow ends have rank 0 (URGENT in SimPy) and the loop
    has none of SimPy's NORMAL events, so the engine's own ranks start at 1."""
    return 1 + kind * n_agents + agent


@njit(cache=True, inline="always", error_model="numpy")
def _push(h_t, h_s, h_c, c, t, code, rank) -> None:
    """Schedule event `code` at time t (the heap has room: see the reserve at the loop's top).
    Events of one instant run by rank, as in the SimPy engine (sim.flows.rank): flow ends (rank
    0), then wake-ups, publishes and timers, each in agent order; equal ranks in scheduling order."""
    n = c[H_N]
    h_t[n], h_s[n], h_c[n] = t, (rank << RANK_SHIFT) | c[SEQ], code
    c[SEQ] += 1
    c[H_N] = n + 1
    _sift_up(h_t, h_s, h_c, n)


@njit(cache=True, inline="always", error_model="numpy")
def _holds(bits, v, p) -> bool:
    """Does agent v hold package p? (One bitset row per agent: digests copy and diff whole rows.)"""
    return (bits[v, p >> 6] >> np.uint64(p & 63)) & np.uint64(1) != 0


@njit(cache=True, inline="always", error_model="numpy")
def _hold(bits, n_held, holders, c, n_agents, v, p) -> None:
    """Agent v now holds package p; `partial` counts tasks held by some agents but not all."""
    bits[v, p >> 6] |= np.uint64(1) << np.uint64(p & 63)
    n_held[v] += 1
    h = holders[p]
    holders[p] = h + 1
    if h == 0:
        c[PARTIAL] += 1
    if h + 1 == n_agents:
        c[PARTIAL] -= 1


@njit(cache=True, error_model="numpy")
def _open(d, head, now, c, fs, fi, bt, items, tsize, sizes, bw, lat, d_dst, d_busy, inbox_head, inbox_tail,
          tok_in, h_t, h_s, h_c) -> None:
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
    _push(h_t, h_s, h_c, c, now + total / bw[d], d * 4 + FLOW_END, 0)
    if npkg < n:  # digests on board: wake their receiver when each lands (the same sums again)
        cum = 0.0
        b = head
        while b >= 0:
            for k in range(bt[b, OFF], bt[b, OFF] + bt[b, LEN]):
                x = items[k]
                cum += tsize[bt[b, SLOT]] if x < 0 else sizes[x]
                if x < 0:
                    wake = _rank(RANK_WAKE, dst, len(tok_in))  # tok_in: one entry per agent
                    _push(h_t, h_s, h_c, c, now + cum / bw[d] + lat[d], dst * 4 + WAKE, wake)
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


@njit(cache=True, error_model="numpy")
def _collect(v, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, d_src, bits, n_held, holders, n_agents,
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
                if not _holds(bits, v, p):
                    _hold(bits, n_held, holders, c, n_agents, v, p)
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


@njit(cache=True, error_model="numpy")
def run_loop(n_agents, n_tasks, out_ptr, out_dir, src, dst, bw, lat, sizes, pub_t, pub_agent, pub_task,
             student, rates, keys, period, digest_bytes, idle_s, max_rounds, keep_items):
    """Simulate push_pull: publishes, timers, flows and digests in time order.

    out_ptr/out_dir: each agent's outgoing directions (CSR, in direction order); src/dst/bw/lat: per
    direction; sizes/student: per task; pub_*: publish events; keys: each agent's draw stream;
    period, digest_bytes (per held id), idle_s (stop after this long without news), max_rounds (-1:
    none). Returns what sim.kernel.run_loop returns: banks, merge times, student MACs, events, and
    the flows (start, end, direction, bytes, items) plus, with keep_items, each item's flow and id.
    """
    n_dirs, n_words = len(src), (n_tasks + 63) >> 6
    bits = np.zeros((n_agents, n_words), dtype=np.uint64)
    known_at = np.empty((n_agents, n_tasks))
    _huge(known_at)
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
    items = np.empty(1 << 16, dtype=np.int32)  # every item sent, in send order, batch by batch
    _huge(items)
    bt = np.empty((1024, 4), dtype=np.int64)
    fs = np.empty((1024, 5))
    fi = np.empty((1024, 6), dtype=np.int64)
    snap = np.empty((64, n_words), dtype=np.uint64)  # each digest in flight: the bank it lists
    tsize = np.empty(64)  # ... its bytes
    tkind = np.empty(64, dtype=np.int64)  # ... ASK or ANSWER; a free slot: the next free one
    scratch = np.empty((16, 2), dtype=np.int64)  # digests taken in by one catch-up: (slot, direction)
    want = np.empty(n_words, dtype=np.uint64)
    table = _debruijn_table()
    cap = n_agents + len(pub_t) + n_dirs + 64
    h_t, h_s, h_c = np.empty(cap), np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
    for i in range(len(pub_t)):
        _push(h_t, h_s, h_c, c, pub_t[i], i * 4 + PUBLISH, _rank(RANK_LEARNED, pub_agent[i], n_agents))
    for a in range(n_agents):
        if out_ptr[a + 1] > out_ptr[a]:
            u = (draw(keys[a], 0) >> np.uint64(11)) * (2.0 ** -53)
            _push(h_t, h_s, h_c, c, u * period, a * 4 + TIMER, _rank(RANK_TIMER, a, n_agents))
    while c[H_N] > 0:
        t, code = h_t[0], h_c[0]
        n = c[H_N] - 1
        h_t[0], h_s[0], h_c[0] = h_t[n], h_s[n], h_c[n]
        c[H_N] = n
        _sift_down(h_t, h_s, h_c, n, 0)
        c[EVENTS] += 1
        kind, x = code & 3, code >> 2
        v = pub_agent[x] if kind == PUBLISH else (src[x] if kind == FLOW_END else x)
        # room for the worst this event can add: every digest on its way to v answered, one more sent
        sends = tok_in[v] + 2
        need = c[N_ITEMS] + sends * (n_tasks + 1)
        if need > len(items):
            items = _grow(items, need)
        while c[N_BATCHES] + sends > len(bt):
            bt = _grow_rows(bt)
        while c[N_FLOWS] + sends > len(fs):
            fs, fi = _grow_rows(fs), _grow_rows(fi)
        while c[N_SLOTS] + sends > len(tsize):
            snap, tsize, tkind = _grow_rows(snap), _grow(tsize, 2 * len(tsize)), _grow(tkind, 2 * len(tkind))
        if tok_in[v] > len(scratch):
            scratch = np.empty((2 * tok_in[v], 2), dtype=np.int64)
        if n_agents + len(pub_t) + n_dirs + len(tsize) + 2 * sends > len(h_t):
            grow = n_agents + len(pub_t) + n_dirs + 2 * len(tsize) + 2 * sends
            h_t, h_s, h_c = _grow(h_t, grow), _grow(h_s, grow), _grow(h_c, grow)

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
                _push(h_t, h_s, h_c, c, t + period, v * 4 + TIMER, _rank(RANK_TIMER, v, n_agents))  # skipped
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
        n_tok, got = _collect(v, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, src, bits, n_held, holders, n_agents,
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
                _open(d, b, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, dst, d_busy, inbox_head, inbox_tail,
                      tok_in, h_t, h_s, h_c)
            else:
                if q_tail[d] >= 0:
                    bt[q_tail[d], NEXT] = b
                else:
                    q_head[d] = b
                q_tail[d] = b

        if kind == PUBLISH:
            p = pub_task[x]
            if not _holds(bits, v, p):
                _hold(bits, n_held, holders, c, n_agents, v, p)
                known_at[v, p] = t
                merge_free[v] = max(merge_free[v], t)
        elif kind == FLOW_END:
            d_busy[x] = IDLE
            if q_head[x] >= 0:
                head = q_head[x]
                q_head[x] = q_tail[x] = -1
                _open(x, head, t, c, fs, fi, bt, items, tsize, sizes, bw, lat, dst, d_busy, inbox_head, inbox_tail,
                      tok_in, h_t, h_s, h_c)
        elif kind == TIMER:  # the next round
            _push(h_t, h_s, h_c, c, t + period, v * 4 + TIMER, _rank(RANK_TIMER, v, n_agents))

    for v in range(n_agents):  # packages that land after the last event are taken in, as in SimPy
        n_tok, got = _collect(v, np.inf, c, fs, fi, bt, items, tsize, sizes, bw, lat, src, bits, n_held, holders,
                              n_agents, known_at, merge_free, student, rates, no_merge, tok_in, inbox_head,
                              inbox_tail, scratch)
        if got >= 0:
            student_macs += got
    n_flows = c[N_FLOWS]
    held = np.zeros((n_agents, n_tasks), dtype=np.bool_)
    for v in range(n_agents):
        for p in range(n_tasks):
            held[v, p] = _holds(bits, v, p)
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
