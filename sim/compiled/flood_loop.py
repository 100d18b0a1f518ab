"""A compiled event loop (numba) for flood and broadcast over independent links.

When every link direction is its own resource (no NIC limit, no serial receive, no loss, no
failure), the flow model reduces to one FIFO pipe per direction: a flow starts when the direction is
idle, or when the previous flow ends, and carries every package queued by then; item i of a flow
leaves at start + cum_i / bandwidth and arrives `latency` later. This loop computes those same
flows, arrival times and banks with one heap event per package arrival that may be new to its
receiver, and no Python object per flow: 15-20x faster than the SimPy engine at N = 500. A copy
sent to an agent that holds the package already, or towards which an earlier-arriving copy is on its
way, is sent and counted, but its landing changes nothing and is not an event (until a package is
banked, its merge-time cell holds the earliest arrival on the way: 30 % fewer events at N = 5000).

At N = 5000 it is bound by memory latency (perf, cpu-clock, before the layouts below: the heap's
sift_down 32 % of the core's samples, waiting for the next arrival's direction row 23 %, for the
out-directions' rows while prefetching their FIFO tails 11 %; page faults of fresh tables 14 % of
the run). Hence the cache-line layouts, huge pages and prefetches: the heap keeps one record per
line half (sim/compiled/heap.py; the heap's order, ties included, is a pinned part of the
results: it decides which of two copies on their way at one instant is queued, hence `events`);
a direction's state is one 128-byte row, rows are numbered by sender so an agent's out-directions
are neighbours; banks are the sign bit of the merge-time cells (sim/compiled/banks.py); and the
rows of the event after next, the next arrival's cells and its out-directions' tails are
prefetched an event ahead. `run_loop` runs without the GIL, and meanwhile a helper thread faults
in fresh pages on the other core, just ahead of the loop's writes (sim/compiled/prefault.py: 2-3 s
of the loop's own time on this VM). The core
(`_advance`) is compiled without numba's reference counts (`_nrt=False`): it allocates nothing and
never replaces a table; when one may lack room for the next event's worst case (a row per
out-direction) it returns, and `run_loop` grows the table and calls it again (tables reserved at the
run's bound, as `_tables` makes them by default, never need it). With reference counts
on, every array handed to an inlined helper cost atomic increments and decrements per event (29 %
of the loop's profile samples). The SimPy engine
(sim/engine/) stays the reference for every other setting; tests/sim/compiled/test_loops.py checks that both
agree bit for bit, exact ties included: at one instant, an agent takes in the copies that land in
sender order and relays them before it publishes (docs/architecture.md, "Simultaneous events").
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.compiled import keys
from sim.compiled.banks import add, clear, has, reserved_table, settle
from sim.compiled.contract import LoopInput, LoopOutput
from sim.compiled.flood_pipes import (CUR_FID, DST, F_BYTES, F_END, F_ITEMS, F_START, LAT, QHC, QHP, QTC, QTP,
                                      close_all, directions, pipe, renumber)
from sim.compiled.heap import key_of, new_heap, payload_of, pop_top, push, replace_top, top_time
from sim.compiled.memory import grow, grow_rows, prefetch, reserve
from sim.compiled.prefault import Prefault
from sim.errors import SimError

CHUNK = 16  # packages per block of a direction's FIFO: pops and pushes walk memory in order
# The loop's counters (`state`), written back after each slice of SLICE events: the prefault helper
# reads how far the tables are filled from them
PI, H_N, N_FLOWS, N_ITEMS, FREE, N_CHUNKS, EVENTS = range(7)
SLICE = 1 << 16
LOW = (1 << 32) - 1  # a heap entry's payload: its direction | its receiver << 32


@njit(cache=True, inline="always", error_model="numpy")
def _enqueue(di, blocks, times, c_next, h, d, arrive, key, free, n_chunks, h_n):
    """Queue an arrival at the tail of direction d's FIFO (a block from the free list, or a fresh
    one: the table has room); a direction that had none on its way enters the heap. Returns the
    free list's head, the blocks in use and the heap's size."""
    r = np.uint64(d)  # (an unsigned row: no test for a negative index)
    c = di[r, QTC]
    empty = c == -1
    if empty or di[r, QTP] == CHUNK:  # a new block at the tail
        if free >= 0:
            nc = free
            free = c_next[nc]
        else:
            nc = n_chunks
            n_chunks += 1
        c_next[nc] = -1
        if empty:
            di[r, QHC], di[r, QHP] = nc, 0
        else:
            c_next[c] = nc
        c, di[r, QTC], di[r, QTP] = nc, nc, 0
    i = di[r, QTP]
    times[c, 2 * i] = arrive
    blocks[c, 2 * i + 1] = key
    di[r, QTP] = i + 1
    if empty:
        h_n = push(h, h_n, arrive, key, d | (di[r, DST] << 32))
    return free, n_chunks, h_n


@njit(cache=True, inline="always", error_model="numpy")
def _pop(di, blocks, times, c_next, h, h_n, free):
    """Take the earliest arrival off its direction's FIFO (a used-up block goes to the free list; a
    direction with nothing more on its way leaves the heap). Returns its time and key (the heap's
    copy of the FIFO's head), direction, receiver, the heap's size and the free list's head."""
    t, key, pay = top_time(h), key_of(h, 1), payload_of(h, 1)
    came = pay & LOW
    r = np.uint64(came)  # (an unsigned row: no test for a negative index)
    prefetch(di, payload_of(h, 2) & LOW, CUR_FID)  # one of the root's children comes next but one: its row, an event ahead
    prefetch(di, payload_of(h, 3) & LOW, CUR_FID)
    c, i = di[r, QHC], di[r, QHP]
    i += 1
    if c == di[r, QTC] and i == di[r, QTP]:  # that was the last one on its way
        c_next[c] = free
        free = c
        di[r, QHC] = di[r, QTC] = -1
        h_n = pop_top(h, h_n)
    else:
        if i == CHUNK:  # block used up: on to the next one
            nc = c_next[c]
            c_next[c] = free
            free = c
            c, i = nc, 0
            di[r, QHC] = c
        di[r, QHP] = i
        replace_top(h, h_n, times[c, 2 * i], blocks[c, 2 * i + 1])
    return t, key, came, pay >> 32, h_n, free


@njit(cache=True, inline="always", error_model="numpy")
def _prefetch_next(out_ptr, known_at, ds, di, blocks, h, task_mask) -> None:
    """The next arrival is known now: start loading what it will touch (its cells, the rows of the
    directions it goes on if it is new, and the item behind it on its FIFO, which replaces it in
    the heap). The heap holds its time, key and receiver, so nothing here waits for its row."""
    pay, np_ = payload_of(h, 1), key_of(h, 1) & task_mask
    nd, nv = pay & LOW, pay >> 32
    prefetch(known_at, np_, nv)
    prefetch(blocks, di[nd, QHC], 2 * di[nd, QHP] + 2)
    for d in range(out_ptr[nv], out_ptr[nv + 1]):
        prefetch(ds, d, 0)
        prefetch(di, d, CUR_FID)


@njit(cache=True, inline="always", error_model="numpy")
def _bank(banked, known_at, merge_free, student, rates, no_merge, v, p, t) -> bool:
    """A copy of p lands on v at t: bank it, merged after v's earlier merges, unless v holds it."""
    if has(banked, v, p):
        return False  # a duplicate: delivered, refused
    if no_merge:
        done = t
    else:
        done = student[p] / rates[v] + max(t, merge_free[v])
        merge_free[v] = done
    add(known_at, v, p, done)
    return True


@njit(cache=True, error_model="numpy", _nrt=False)
def _advance(out_ptr, sizes, pub_t, pub_agent, pub_task, student, rates, forward, keep_items, per_event,
             known_at, merge_free, no_merge, ds, di, flows, f_dir, i_fid, i_pkg, blocks, c_next,
             h, task_bits, state, macs):
    """The loop's core: every publish and arrival in time order, until the run ends (returns True),
    a slice of SLICE events is done or a growable table may lack room for the next event (returns
    False: run_loop grows what needs it and calls again). Tables are never replaced in here, so
    the loop holds no reference counts."""
    pi, h_n, n_flows, n_items, free, n_chunks = state[PI], state[H_N], state[N_FLOWS], state[N_ITEMS], state[FREE], state[N_CHUNKS]
    events = state[EVENTS]
    slice_end = events + SLICE
    student_macs = macs[0]
    times = blocks.view(np.float64)  # (the same memory: an item's time and key share a cache line)
    banked = known_at.view(np.int64)  # (sign bit: banked)
    task_mask = (1 << task_bits) - 1  # an arrival's key: (sender << task_bits) | task
    n_pub = len(pub_t)
    finished = False
    while True:
        if (n_flows + per_event > len(f_dir) or n_chunks + per_event > len(c_next)
                or keep_items and n_items + per_event > len(i_fid) or events >= slice_end):
            break
        if pi < n_pub and (h_n == 0 or pub_t[pi] < top_time(h)):  # an agent takes in, then publishes
            t, v, p, came = pub_t[pi], pub_agent[pi], pub_task[pi], -1
            pi += 1
        elif h_n > 0:
            t, key, came, v, h_n, free = _pop(di, blocks, times, c_next, h, h_n, free)
            p = key & task_mask
            if h_n > 0:
                _prefetch_next(out_ptr, known_at, ds, di, blocks, h, task_mask)
        else:
            finished = True
            break
        events += 1
        if came >= 0:
            if not _bank(banked, known_at, merge_free, student, rates, no_merge, v, p, t):
                continue
            student_macs += student[p]
            if not forward:
                continue
            sender = key >> task_bits
        else:
            if not has(banked, v, p):
                add(known_at, v, p, t)
                merge_free[v] = max(merge_free[v], t)
            sender = -1
        s, relay_key = sizes[p], (v << task_bits) | p  # (v sends on every direction below)
        for d in range(out_ptr[v], out_ptr[v + 1]):  # (directions numbered by sender: see run_loop)
            r = np.uint64(d)  # (an unsigned row: no test for a negative index)
            w = di[r, DST]
            if w == sender:
                continue
            fid, leave, n_flows = pipe(ds, di, flows, f_dir, n_flows, d, t, s, came < 0)
            if keep_items:
                i_fid[n_items] = fid
                i_pkg[n_items] = p
                n_items += 1
            if has(banked, w, p):
                continue  # the receiver holds it already: a copy that changes nothing when it lands
            arrive = leave + ds[r, LAT]
            cell = (np.uint64(p), np.uint64(w))
            if known_at[cell] < arrive:
                continue  # an earlier copy is on its way there: this one will change nothing either
            known_at[cell] = arrive
            free, n_chunks, h_n = _enqueue(di, blocks, times, c_next, h, d, arrive, relay_key, free, n_chunks, h_n)
        if h_n > 0:  # the next arrival's out-directions' rows have loaded by now: on to their tails
            nv, np_ = payload_of(h, 1) >> 32, key_of(h, 1) & task_mask  # and to the receivers' cells
            for d in range(out_ptr[nv], out_ptr[nv + 1]):
                prefetch(known_at, np_, di[d, DST])
                if di[d, QTC] >= 0:
                    prefetch(blocks, di[d, QTC], 2 * di[d, QTP])
    state[PI], state[H_N], state[N_FLOWS], state[N_ITEMS], state[FREE], state[N_CHUNKS] = pi, h_n, n_flows, n_items, free, n_chunks
    state[EVENTS] = events
    macs[0] = student_macs
    return finished


@njit(cache=True, error_model="numpy", nogil=True)
def run_loop(n_agents, n_tasks, out_ptr, out_dir, src, dst, bw, lat, sizes, pub_t, pub_agent, pub_task,
             student, rates, forward, keep_items, known_at, state, flows, f_dir, i_fid, i_pkg, blocks, c_next,
             per_event, task_bits):
    """Simulate every publish and package arrival in time order.

    out_ptr/out_dir: each agent's outgoing directions (CSR); src/dst/bw/lat: per direction;
    sizes/student: per task; pub_*: publish events sorted by time; forward: relay new packages
    to every neighbour but their sender (flood) or not (broadcast); known_at: the bank table
    (sim.compiled.banks, cleared); state: the loop's counters, zero but FREE (-1); flows, f_dir,
    i_fid, i_pkg, blocks, c_next: the flow, item and block tables (`_tables`: a reserved bound, or
    rows that grow by doubling); per_event: the rows one event may add to each (the most out-directions of an
    agent); task_bits: the width of a task id in an arrival's key (sim.compiled.keys).
    Returns banks, merge times (by agent: a transposed view of the loop's table), student MACs,
    heap events, the flows (start, end, direction, bytes, items: views of the flow table) plus,
    with keep_items, each item's flow and package, and the bytes each direction carried.
    """
    merge_free = np.zeros(n_agents)
    no_merge = not (student > 0).any()
    # Inside the loop a direction's number is its place in out_dir: an agent's out-directions are
    # then neighbouring rows, and the flows name directions by their own numbers again at the end.
    ds, di = directions(dst[out_dir], bw[out_dir], lat[out_dir])
    # A binary heap of the directions with packages on the way, keyed by their first arrival (and
    # its key: sender first, so copies landing on one agent at one instant come in sender order),
    # one 32-byte record per direction (sim.compiled.heap).
    h = new_heap(len(src))
    macs = np.zeros(1)  # student MACs
    while not _advance(out_ptr, sizes, pub_t, pub_agent, pub_task, student, rates, forward, keep_items,
                       per_event, known_at, merge_free, no_merge, ds, di, flows, f_dir, i_fid, i_pkg, blocks,
                       c_next, h, task_bits, state, macs):
        f_dir, c_next = grow(f_dir, state[N_FLOWS] + per_event), grow(c_next, state[N_CHUNKS] + per_event)
        while len(flows) < len(f_dir):
            flows = grow_rows(flows)
        while len(blocks) < len(c_next):
            blocks = grow_rows(blocks)
        if keep_items:
            i_fid, i_pkg = grow(i_fid, state[N_ITEMS] + per_event), grow(i_pkg, state[N_ITEMS] + per_event)
    n_flows, n_items = state[N_FLOWS], state[N_ITEMS]
    close_all(ds, di, flows)
    dir_bytes = renumber(f_dir, flows, n_flows, out_dir)
    held = settle(known_at)
    flows = flows[:n_flows]
    return (held, known_at.T, macs[0], state[EVENTS], flows[:, F_START], flows[:, F_END], f_dir[:n_flows],
            flows[:, F_BYTES], flows.view(np.int64)[:, F_ITEMS], i_fid[:n_items], i_pkg[:n_items], dir_bytes)


def _tables(inp: LoopInput, forward: bool, per_event: int) -> tuple[np.ndarray, ...]:
    """The flow, item and block tables: by default the most a run can fill, reserved (memory is
    taken only where rows are written, so they never grow); with `inp.capacity`, that many rows,
    grown by doubling. An agent sends a package at most once on each of its directions (flood: on
    its first copy; broadcast: its own tasks), so a run has at most that many sends, flows and
    items; a direction's FIFO holds its queued items in full blocks plus at most two part-filled."""
    out_deg = np.diff(inp.out_ptr)
    sends = inp.n_tasks * len(inp.src) if forward else int(out_deg[inp.pub_agent].sum())
    rows = sends + per_event
    chunks = sends // CHUNK + 2 * len(inp.src) + per_event
    if inp.capacity is not None:
        rows = chunks = max(inp.capacity, 1)
    # Packages on their way, one FIFO per direction (arrivals on a direction come in send order),
    # as a linked list of blocks of CHUNK items (arrival time, key), recycled through a free list.
    return (reserve(rows, 4, np.float64),  # per flow: start, end, bytes, packages
            reserve(rows, 0, np.int32),  # its direction
            reserve(rows if inp.keep_items else 0, 0, np.int64),  # per item sent: its flow ...
            reserve(rows if inp.keep_items else 0, 0, np.int32),  # ... and package
            reserve(chunks, 2 * CHUNK, np.int64),  # item i: key at 2i + 1, arrival time at 2i
            reserve(chunks, 0, np.int64))  # each block's successor


def run(inp: LoopInput) -> LoopOutput:
    """Run flood (relays) or broadcast (no relays) on the compiled loop."""
    forward = inp.gossip.protocol == "flood"
    per_event = max(1, int(np.diff(inp.out_ptr).max()))  # rows one event may add to each table
    task_bits = keys.task_bits(inp.n_agents, inp.n_tasks, len(inp.src))
    if task_bits is None:
        raise SimError(f"{inp.n_agents} agents, {inp.n_tasks} tasks and {len(inp.src)} link directions do not fit "
                       "the flood loop's arrival keys (sim/compiled/keys.py); run it with engine: simpy")
    known_at, tables = reserved_table(inp.n_agents, inp.n_tasks), _tables(inp, forward, per_event)
    state = np.zeros(7, dtype=np.int64)
    state[FREE] = -1  # no block on the free list
    flows, f_dir, i_fid, i_pkg, blocks, c_next = tables
    # The loop runs without the GIL; meanwhile a helper thread faults in fresh pages ahead of it
    # (sim/compiled/prefault.py): the bank table's from the back while it is cleared from the
    # front, then the tables the loop fills in order, past the rows `state` says are filled.
    tracked = [(flows, N_FLOWS), (f_dir, N_FLOWS), (i_fid, N_ITEMS), (i_pkg, N_ITEMS), (blocks, N_CHUNKS),
               (c_next, N_CHUNKS)]
    with Prefault(state, tracked, first=[known_at]):
        clear(known_at)
        out = run_loop(
            inp.n_agents, inp.n_tasks, inp.out_ptr, inp.out_dir, inp.src, inp.dst, inp.bandwidth, inp.latency,
            inp.sizes, inp.pub_t, inp.pub_agent, inp.pub_task, inp.student, inp.rates, forward,
            inp.keep_items, known_at, state, *tables, per_event, task_bits)
    return LoopOutput(*out)
