"""Links, NICs and flows: max-min fair (or FIFO) sharing, loss and outages, in simulated time.

Two orders of latency and bandwidth, which agree wherever a flow is alone on its resources: a flow
that crosses only its link direction (no NIC limit, per_link streams) is a pipe, its bytes leave
at the link's rate and arrive `latency` later; a flow that crosses NICs, or any flow of per_package
streams, is a SimGrid CM02 transfer: its bytes start flowing (and take shares, or a serial
receiver's NIC) `latency` after it opens, and an item arrives when its last byte is through.
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.config import NetworkConfig
from sim.engine.events import call_at, call_later
from sim.engine.flows import Flow, Pending, cum_long, cum_short
from sim.engine.grants import Grants
from sim.engine.host import Listener
from sim.engine.outages import Outages
from sim.engine.resources import resources
from sim.engine.shared import EqualSplit
from sim.engine.sharing import progressive_filling
from sim.engine.traffic import Traffic
from sim.ranks import URGENT

SHORT_FLOW = 32  # flows with at most this many items get their byte sums in plain Python


class Network(Outages, Traffic):
    """Every link direction with its queue; flows over link + NIC resources, shared per config.

    Resources: link direction d (capacity = its bandwidth), sender uplink D+u and receiver downlink
    D+N+v (when limited, per agent: `nics`). A resource is exclusive (serves one flow at a time,
    FIFO) in "fifo" mode, and the downlink is exclusive with `serial_receive`. With per_link
    streams `send` queues items on a direction, which carries everything queued as one flow at a
    time (like one TCP stream per neighbour pair); with per_package every item is its own flow.
    """

    # per_package flows alone on their direction share it through an EqualSplit (O(log n) per change);
    # tests/sim/engine/test_shared.py turns it off (the max-min re-solve) and checks results agree
    equal_split = True

    def __init__(self, env: simpy.Environment, n_agents: int, links: dict, config: NetworkConfig,
                 sizes: np.ndarray, seed: int, listener: Listener, nics: dict | None = None) -> None:
        """`nics`: per agent "uplink" and "downlink" caps in bytes/s (inf: none; sim.links.nic_caps);
        by default the config's caps, which must then be numbers."""
        self.env = env
        self.config = config
        self.listener = listener
        self.sizes = sizes  # bytes per package id
        self.sizes_l = np.asarray(sizes, dtype=np.float64).tolist()
        self.digest_sizes: dict[int, float] = {}  # bytes per digest token (negative ids)
        self.src, self.dst = links["src"], links["dst"]
        self.bandwidth, self.latency, self.loss = links["bandwidth"], links["latency"], links["loss"]
        n_dirs = len(self.src)
        self.n_dirs, self.n_agents, self.seed = n_dirs, n_agents, seed
        self.src_l, self.dst_l = self.src.tolist(), self.dst.tolist()  # Python ints: fast scalar access
        self.latency_l = self.latency.tolist()
        self.lossy = (self.loss > 0).tolist()
        self.index = {(int(a), int(b)): d for d, (a, b) in enumerate(zip(self.src, self.dst))}
        self.out_dirs: list[list[int]] = [[] for _ in range(n_agents)]
        for d, a in enumerate(self.src):
            self.out_dirs[int(a)].append(d)
        self.queue: list[list[int]] = [[] for _ in range(n_dirs)]
        self.state = [0] * n_dirs  # 0 idle, 1 waiting for a grant, 2 active
        self.down = [0] * n_dirs  # > 0: cut (outage, partition, dead end)
        self.active: dict[int, dict[Flow, None]] = {}  # direction -> its flows, in start order
        self.pending: dict[int, list[Pending]] = {}  # CM02 transfers opened on d, not flowing yet
        self.per_package = config.streams == "per_package"
        self.queued_at = [-np.inf] * n_dirs  # when items were last queued on each direction
        res = resources(self.bandwidth, self.src_l, self.dst_l, n_agents, config, nics)
        self.capacity, self.exclusive, self.res_of, self.plain = res
        self.any_exclusive = bool(self.exclusive.any())
        self.capacity_l, self.exclusive_l = self.capacity.tolist(), self.exclusive.tolist()
        alone = self.per_package and self.equal_split
        self.split = [EqualSplit(self.capacity_l[d]) if alone and self.res_of[d] == (d,) and not self.exclusive_l[d]
                      else None for d in range(n_dirs)] if alone else [None] * n_dirs
        # resource -> flows using it, in start order (a dict, not a set: set order follows memory
        # addresses, which made re-sharing order, float rounding and results vary between runs)
        self.users: dict[int, dict[Flow, None]] = {}
        self.grants = Grants(self.exclusive_l, self._granted)
        self.rngs: dict[int, np.random.Generator] = {}
        self.flows_started = 0
        self.bytes_sent = 0.0
        self.bytes_delivered = 0.0
        self.bytes_lost = 0.0
        self.dir_sent = [0.0] * n_dirs  # bytes that left on each direction
        self.dir_delivered = [0.0] * n_dirs  # bytes that arrived intact on each direction

    # -- queueing -------------------------------------------------------------------------------
    def send(self, d: int, items) -> None:
        """Queue items on direction d; start a flow at once if the direction is free (per_package:
        every item opens its own transfer now)."""
        self.queued_at[d] = self.env.now
        if self.per_package:
            if self.down[d]:
                self.queue[d].extend(items)
                return
            self.state[d] = 2
            for i in list(items):
                self._open_cm02(d, [i], self.latency_l[d])
            return
        self.queue[d].extend(items)
        if self.state[d] == 0 and self.down[d] == 0:
            self._request(d)

    def set_digest_size(self, token: int, nbytes: float) -> None:
        """Digest `token` (a negative id) weighs `nbytes` when it is sent."""
        self.digest_sizes[token] = nbytes

    def forget_digest(self, token: int) -> None:
        """Digest `token` has arrived: its size is no longer needed."""
        self.digest_sizes.pop(token, None)

    def clear_queues(self, dirs: list[int]) -> None:
        """Forget what waits on these directions (a sender back without its bank)."""
        for d in dirs:
            self.queue[d] = []

    def resources_of(self, d: int) -> tuple[int, ...]:
        """Resources a flow on direction d crosses (only the ones that can bind)."""
        return self.res_of[d]

    def _request(self, d: int) -> None:
        """Direction d has items and no flow: open one (a pipe asks for its exclusive resources
        first and takes the queue when granted; a CM02 transfer takes the queue now, and asks once
        its latency has run: it holds nothing while its first byte travels)."""
        res = self.res_of[d]
        if self.per_package:
            items, self.queue[d] = self.queue[d], []
            self.send(d, items)
            return
        if len(res) > 1:  # crosses a NIC: CM02 (per_package returned above)
            self.state[d] = 2
            self.listener.before_send(self.src_l[d])
            items = self.queue[d]
            if not items or self.down[d]:
                self.state[d] = 0
                return
            self.queue[d] = []
            warm = self.env.now - self.queued_at[d] >= self.latency_l[d]  # what it carries left long ago
            self._open_cm02(d, items, 0.0 if warm else self.latency_l[d])
            return
        if not self.any_exclusive or not any(self.exclusive_l[r] for r in res):
            self._start(d, res)
            return
        self.state[d] = 1
        self.grants.ask(d, res)

    def _granted(self, request) -> None:
        """An exclusive request was granted: a direction's pipe takes its queue, a transfer flows."""
        if isinstance(request, Pending):
            self._flow(request)
        else:
            self._start(request, self.res_of[request])

    def _open_cm02(self, d: int, ids: list[int], wait: float) -> None:
        """Open a CM02 transfer of `ids` on d: its bytes flow `wait` seconds from now."""
        p = Pending(d, ids, self.env.now, self.res_of[d])
        self.pending.setdefault(d, []).append(p)
        if wait > 0:
            call_later(self.env, wait, lambda _e: self._latency_over(p), URGENT)
        else:
            self._latency_over(p)

    def _latency_over(self, p: Pending) -> None:
        """A transfer's first byte has arrived: it flows now, or waits for its exclusive resources."""
        if p.cancelled:
            return
        if self.any_exclusive and any(self.exclusive_l[r] for r in p.resources):
            self.grants.ask(p, p.resources)
        else:
            self._flow(p)

    def _flow(self, p: Pending) -> None:
        """The transfer's bytes flow from now; items arrive as their last byte is through."""
        ps = self.pending[p.direction]
        ps.remove(p)
        if not ps:
            del self.pending[p.direction]
        self.open_flow(p.direction, p.ids, p.resources, latency=0.0, opened=p.opened)

    def _start(self, d: int, res: tuple[int, ...]) -> None:
        """Open a flow on d carrying everything queued."""
        self.state[d] = 2  # claimed: a send() while the sender catches up only queues
        self.listener.before_send(int(self.src[d]))  # the sender catches up on what it received
        items = self.queue[d]
        if not items or self.down[d]:
            self.state[d] = 0
            return
        self.queue[d] = []
        self.open_flow(d, items, res)

    def open_flow(self, d: int, ids, res: tuple[int, ...] | None = None, latency: float | None = None,
                  opened: float | None = None) -> Flow:
        """Start one flow on d now carrying `ids` (a list or array; also usable directly: several
        flows may share a direction); its items arrive `latency` (default: the link's) after
        their last byte has left, and it was handed over at `opened` (default: now)."""
        res = self.res_of[d] if res is None else res
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) <= SHORT_FLOW:
            cum, cum_l, tokens = cum_short(ids.tolist(), self.sizes_l, self.digest_sizes)
        else:
            cum, cum_l, tokens = cum_long(ids, self.sizes, self.digest_sizes)
        flow = Flow(d, self.src_l[d], self.dst_l[d], ids, cum, cum_l,
                    self.latency_l[d] if latency is None else latency, self.env.now, res)
        if opened is not None:
            flow.opened = opened
        if tokens:
            flow.tokens = tokens
        if self.lossy[d]:  # an item of 0 bytes (a digest listing no id) puts nothing on the wire to lose
            flow.lost = (self._rng(d).random(len(ids)) < self.loss[d]) & (np.diff(cum, prepend=0.0) > 0)
        self.state[d] = 2
        self.active.setdefault(d, {})[flow] = None
        self.flows_started += 1
        split = self.split[d]
        if split is not None and flow.latency == 0 and len(flow.ids_l) == 1:
            split.join(flow, self.env.now)
            self._schedule_split(d)
            return flow  # its receiver hears of it when its byte is through (_split_end)
        users, exclusive = self.users, self.exclusive_l
        for r in res:
            if r in users:
                users[r][flow] = None
            else:
                users[r] = {flow: None}
            if exclusive[r]:
                self.grants.hold(r, flow)
        self._reshare(flow)
        self.listener.flow_started(flow)
        return flow

    def _rng(self, d: int) -> np.random.Generator:
        """The loss generator of direction d, a child of the root seed."""
        if d not in self.rngs:
            self.rngs[d] = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1, d)))
        return self.rngs[d]

    # -- sharing --------------------------------------------------------------------------------
    def _reshare(self, seed: Flow, *more: Flow) -> None:
        """Recompute max-min fair rates (progressive filling) for the flows coupled to `seed` (and
        to `more`: one pass for all the components a flow's end touches)."""
        now = self.env.now
        if not more and len(seed.resources) == 1 and len(self.users[seed.resources[0]]) == 1 and seed.rate == 0:
            seed.set_rate(now, self.capacity_l[seed.resources[0]])  # alone on its link
            self._schedule_end(seed)
            return
        todo = [seed, *more]
        comp, seen = [], {id(f) for f in todo}
        while todo:
            f = todo.pop()
            if not f.ended:
                comp.append(f)
            for r in f.resources:
                for g in self.users.get(r, ()):
                    if id(g) not in seen:
                        seen.add(id(g))
                        todo.append(g)
        if len(comp) == 1 and all(len(self.users[r]) == 1 for r in comp[0].resources):
            rates = {id(comp[0]): min(self.capacity_l[r] for r in comp[0].resources)}
        else:
            rates = progressive_filling(comp, self.capacity_l)
        for f in comp:
            rate = rates[id(f)]
            if rate != f.rate or f.end_event is None:
                old = f.rate
                f.set_rate(now, rate)
                self._schedule_end(f)
                if old:
                    self.listener.flow_changed(f)

    def _schedule_end(self, flow: Flow) -> None:
        """(Re)schedule the moment the flow's last byte leaves. Ends come first within an instant
        (URGENT): a direction whose flow ends at t hands over to its next flow before its sender
        does anything else at t, whatever order the events were scheduled in."""
        flow.version += 1
        version = flow.version
        flow.end_event = call_later(self.env, flow.remaining_time(), lambda _e: self._finish(flow, version), URGENT)

    def _schedule_split(self, d: int) -> None:
        """(Re)schedule the next end among the flows that share direction d equally (URGENT, as
        `_schedule_end`); an end scheduled before this change goes stale."""
        split = self.split[d]
        split.version += 1
        nxt = split.next_end()
        if nxt is not None:
            version = split.version
            call_at(self.env, self.env.now + nxt[1], lambda _e: self._split_end(d, version), URGENT)

    def _split_end(self, d: int, version: int) -> None:
        """The first flow of d's equal split is through: its item arrives now (latency ran before)."""
        split, now = self.split[d], self.env.now
        if version != split.version:
            return
        split.advance(now)
        flow = split.pop()
        flow.rate, flow.t_last, flow.sent = split.rate, now, flow.total
        self._arrives_now(flow)
        self._close(flow, cut=False)

    def _arrives_now(self, flow: Flow) -> None:
        """A flow of an equal split is through: its arrival time is known now, so its receiver is told."""
        flow.arr_l = [self.env.now]
        flow.arr = np.array(flow.arr_l)
        self.listener.flow_started(flow)

    # -- ends -----------------------------------------------------------------------------------
    def _finish(self, flow: Flow, version: int) -> None:
        """The last byte has left: account, free resources, start what waits."""
        if flow.ended or version != flow.version:
            return
        flow.advance(self.env.now)
        flow.sent = flow.total
        self._close(flow, cut=False)

    def _close(self, flow: Flow, cut: bool) -> None:
        """Account bytes, release resources, hand failed items back to the queue."""
        flow.ended = True
        d = flow.direction
        sent = flow.sent
        if flow.lost is None and flow.limit == len(flow.ids):
            delivered = flow.total
        else:
            delivered_mask = np.zeros(len(flow.ids), dtype=bool)
            delivered_mask[:flow.limit] = True
            if flow.lost is not None:
                delivered_mask &= ~flow.lost
            sizes = np.diff(flow.cum, prepend=0.0)
            delivered = float(sizes[delivered_mask].sum())
        self.bytes_sent += sent
        self.bytes_delivered += delivered
        self.bytes_lost += sent - delivered
        self.dir_sent[d] += sent
        self.dir_delivered[d] += delivered
        flows = self.active[d]
        del flows[flow]
        if not flows:
            del self.active[d]
        split = self.split[d] if flow.tag is not None else None
        if split is not None:
            split.leave(flow, self.env.now)
        else:
            for r in flow.resources:
                self.users[r].pop(flow, None)
                self.grants.release(r, flow)
        if flow.lost is not None:
            for i in np.flatnonzero(flow.lost[:flow.limit]):
                self.listener.item_lost(flow, int(i))
        if cut:
            failed = [int(i) for i in flow.ids[flow.limit:] if i >= 0]  # digests are not retried
            self.queue[d][:0] = failed
        self.listener.flow_finished(flow, cut)
        survivors = []  # the survivors speed up
        for r in () if split is not None else flow.resources:
            for g in self.users.get(r, ()):
                if not g.ended and g not in survivors:
                    survivors.append(g)
                break
        if survivors:
            self._reshare(*survivors)
        elif split is not None:
            self._schedule_split(d)
        if self.per_package:
            if not self.active.get(d) and not self.pending.get(d):
                self.state[d] = 0
                if self.down[d] == 0:
                    if self.queue[d]:
                        self._request(d)
                    else:
                        self.listener.idle(flow.src)
        elif not self.active.get(d) and not self.pending.get(d):
            self.state[d] = 0
            if self.down[d] == 0:
                self.state[d] = 2  # claimed while the sender catches up on what it received
                self.listener.before_send(flow.src)
                self.state[d] = 0
                if self.queue[d]:
                    self._request(d)
                else:
                    self.listener.idle(flow.src)
        self.grants.grant()
