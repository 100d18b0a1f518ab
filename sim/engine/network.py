"""Links, NICs and flows: max-min fair (or FIFO) sharing, loss and outages, in simulated time."""

from __future__ import annotations

from collections import deque
from itertools import accumulate
from typing import Protocol

import numpy as np
import simpy

from sim.config import NetworkConfig
from sim.engine.events import call_later
from sim.engine.flows import Flow
from sim.engine.sharing import progressive_filling
from sim.errors import SimError
from sim.ranks import URGENT

SHORT_FLOW = 32  # flows with at most this many items get their byte sums in plain Python


class Listener(Protocol):
    """What the network tells the engine about flows."""

    def flow_started(self, flow: Flow) -> None: ...
    def flow_changed(self, flow: Flow) -> None: ...
    def flow_finished(self, flow: Flow, cut: bool) -> None: ...
    def item_lost(self, flow: Flow, index: int) -> None: ...
    def before_send(self, agent: int) -> None: ...
    def idle(self, agent: int) -> None: ...
    def direction_down(self, d: int) -> None: ...


class Network:
    """Every link direction with its queue; flows over link + NIC resources, shared per config.

    Resources: link direction d (capacity = its bandwidth), sender uplink D+u and receiver downlink
    D+N+v (when limited). A resource is exclusive (serves one flow at a time, FIFO) in "fifo" mode,
    and the downlink is exclusive with `serial_receive`. `send` queues items on a direction, which
    carries everything queued as one flow at a time (like one TCP stream per neighbour pair).
    """

    def __init__(self, env: simpy.Environment, n_agents: int, links: dict, config: NetworkConfig,
                 sizes: np.ndarray, seed: int, listener: Listener) -> None:
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
        self.active: dict[int, list[Flow]] = {}
        up = config.uplink or np.inf
        down = config.downlink or np.inf
        self.capacity = np.concatenate([self.bandwidth, np.full(n_agents, up), np.full(n_agents, down)])
        fifo = config.sharing == "fifo"
        self.exclusive = np.zeros(len(self.capacity), dtype=bool)
        self.exclusive[:n_dirs] = fifo
        self.exclusive[n_dirs:n_dirs + n_agents] = fifo and config.uplink is not None
        self.exclusive[n_dirs + n_agents:] = config.serial_receive or (fifo and config.downlink is not None)
        self.any_exclusive = bool(self.exclusive.any())
        self.capacity_l = self.capacity.tolist()
        self.exclusive_l = self.exclusive.tolist()
        self.plain = config.uplink is None and config.downlink is None and not self.any_exclusive
        # resource -> flows using it, in start order (a dict, not a set: set order follows memory
        # addresses, which made re-sharing order, float rounding and results vary between runs)
        self.users: dict[int, dict[Flow, None]] = {}
        self.holder: dict[int, object] = {}  # exclusive resource -> the flow or request holding it
        self.waiting: deque = deque()  # requests for exclusive resources, FIFO
        self.rngs: dict[int, np.random.Generator] = {}
        self.flows_started = 0
        self.bytes_sent = 0.0
        self.bytes_delivered = 0.0
        self.bytes_lost = 0.0
        self.dir_sent = [0.0] * n_dirs  # bytes that left on each direction
        self.dir_delivered = [0.0] * n_dirs  # bytes that arrived intact on each direction

    # -- queueing -------------------------------------------------------------------------------
    def send(self, d: int, items) -> None:
        """Queue items on direction d; start a flow at once if the direction is free."""
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

    def busy(self) -> bool:
        """True while any flow is active or waiting, or items are queued on a direction that is up."""
        if self.active or self.waiting:
            return True
        return any(q and not self.down[d] for d, q in enumerate(self.queue))

    def packages_queued(self) -> bool:
        """True while a package (not a digest) is queued on a direction that is up."""
        down = self.down
        for d, q in enumerate(self.queue):
            if q and not down[d] and (q[0] >= 0 or q[-1] >= 0 or any(i >= 0 for i in q)):
                return True
        return False

    def resources_of(self, d: int) -> tuple[int, ...]:
        """Resources a flow on direction d crosses (only the ones that can bind)."""
        if self.plain:
            return (d,)
        res = [d]
        u, v = int(self.src[d]), int(self.dst[d])
        if self.config.uplink is not None:
            res.append(self.n_dirs + u)
        if self.config.downlink is not None or self.exclusive[self.n_dirs + self.n_agents + v]:
            res.append(self.n_dirs + self.n_agents + v)
        return tuple(res)

    def _request(self, d: int) -> None:
        """Ask for the exclusive resources of direction d, or start at once if none are needed."""
        res = self.resources_of(d)
        if not self.any_exclusive or not any(self.exclusive[r] for r in res):
            self._start(d, res)
            return
        self.state[d] = 1
        self.waiting.append(d)
        self._grant()

    def _grant(self) -> None:
        """Start every waiting request whose exclusive resources are all free, in FIFO order."""
        still = deque()
        while self.waiting:
            d = self.waiting.popleft()
            res = self.resources_of(d)
            if all(r not in self.holder for r in res if self.exclusive[r]):
                self._start(d, res)
            else:
                still.append(d)
        self.waiting = still

    def _start(self, d: int, res: tuple[int, ...]) -> None:
        """Open a flow on d carrying everything queued there."""
        self.state[d] = 2  # claimed: a send() while the sender catches up only queues
        self.listener.before_send(int(self.src[d]))  # the sender catches up on what it received
        items = self.queue[d]
        if not items or self.down[d]:
            self.state[d] = 0
            return
        self.queue[d] = []
        self.open_flow(d, items, res)

    def open_flow(self, d: int, ids, res: tuple[int, ...] | None = None) -> Flow:
        """Start one flow on d now carrying `ids` (a list or array; also usable directly: several
        flows may share a direction)."""
        res = self.resources_of(d) if res is None else res
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) <= SHORT_FLOW:
            cum, cum_l, tokens = self._cum_short(ids.tolist())
        else:
            cum, cum_l, tokens = self._cum_long(ids)
        flow = Flow(d, self.src_l[d], self.dst_l[d], ids, cum, cum_l, self.latency_l[d], self.env.now, res)
        if tokens:
            flow.tokens = tokens
        if self.lossy[d]:  # an item of 0 bytes (a digest listing no id) puts nothing on the wire to lose
            flow.lost = (self._rng(d).random(len(ids)) < self.loss[d]) & (np.diff(cum, prepend=0.0) > 0)
        self.state[d] = 2
        self.active.setdefault(d, []).append(flow)
        self.flows_started += 1
        users, exclusive = self.users, self.exclusive_l
        for r in res:
            if r in users:
                users[r][flow] = None
            else:
                users[r] = {flow: None}
            if exclusive[r]:
                self.holder[r] = flow
        self._reshare(flow)
        self.listener.flow_started(flow)
        return flow

    def _cum_short(self, ids: list[int]) -> tuple[np.ndarray, list[float], list[int]]:
        """Cumulative bytes and digest-token indices of a short flow, in plain Python: most flows
        carry one to three items, where numpy's per-call overhead dominates. The sums are the
        same sequential float64 additions as numpy's cumsum, so arrival times are unchanged."""
        sizes, digests = self.sizes_l, self.digest_sizes
        if digests:  # digests travel: look their sizes up
            cum_l = list(accumulate([digests[i] if i < 0 else sizes[i] for i in ids]))
            tokens = [k for k, i in enumerate(ids) if i < 0]
        else:
            cum_l, tokens = list(accumulate([sizes[i] for i in ids])), []
        return np.array(cum_l, dtype=np.float64), cum_l, tokens

    def _cum_long(self, ids: np.ndarray) -> tuple[np.ndarray, list[float], list[int]]:
        """`_cum_short` for a long flow, with numpy."""
        tokens = []
        if self.digest_sizes:
            sizes = self.sizes[np.maximum(ids, 0)]
            tokens = np.flatnonzero(ids < 0).tolist()
            if tokens:
                sizes[tokens] = [self.digest_sizes[int(ids[k])] for k in tokens]
        else:
            sizes = self.sizes[ids]
        cum = sizes.astype(np.float64, copy=False).cumsum()
        return cum, cum.tolist(), tokens

    def _rng(self, d: int) -> np.random.Generator:
        """The loss generator of direction d, a child of the root seed."""
        if d not in self.rngs:
            self.rngs[d] = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1, d)))
        return self.rngs[d]

    # -- sharing --------------------------------------------------------------------------------
    def _reshare(self, seed: Flow) -> None:
        """Recompute max-min fair rates (progressive filling) for the flows coupled to `seed`."""
        now = self.env.now
        if len(seed.resources) == 1 and len(self.users[seed.resources[0]]) == 1 and seed.rate == 0:
            seed.set_rate(now, self.capacity_l[seed.resources[0]])  # alone on its link
            self._schedule_end(seed)
            return
        comp, todo, seen = [], [seed], {id(seed)}
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

    # -- ends -----------------------------------------------------------------------------------
    def _finish(self, flow: Flow, version: int) -> None:
        """The last byte has left: account, free resources, start what waits."""
        if flow.ended or version != flow.version:
            return
        flow.advance(self.env.now)
        flow.sent = flow.total
        self._close(flow, cut=False)

    def cut(self, d: int) -> None:
        """Cut direction d now: active flows fail from the first item not yet arrived."""
        for flow in list(self.active.get(d, ())):
            flow.advance(self.env.now)
            arrived = flow.arr[:flow.limit] <= self.env.now
            flow.limit = int(arrived.sum())  # arrivals are increasing in index
            self._close(flow, cut=True)

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
        flows.remove(flow)
        if not flows:
            del self.active[d]
        for r in flow.resources:
            self.users[r].pop(flow, None)
            if self.holder.get(r) is flow:
                del self.holder[r]
        if flow.lost is not None:
            for i in np.flatnonzero(flow.lost[:flow.limit]):
                self.listener.item_lost(flow, int(i))
        if cut:
            failed = [int(i) for i in flow.ids[flow.limit:] if i >= 0]  # digests are not retried
            self.queue[d][:0] = failed
        self.listener.flow_finished(flow, cut)
        for r in flow.resources:  # the survivors speed up
            for g in list(self.users.get(r, ())):
                if not g.ended:
                    self._reshare(g)
                break
        if not self.active.get(d):
            self.state[d] = 0
            if self.down[d] == 0:
                self.state[d] = 2  # claimed while the sender catches up on what it received
                self.listener.before_send(flow.src)
                self.state[d] = 0
                if self.queue[d]:
                    self._request(d)
                else:
                    self.listener.idle(flow.src)
        if self.waiting:
            self._grant()

    # -- outages --------------------------------------------------------------------------------
    def set_down(self, d: int) -> None:
        """One more reason for direction d to be down; cut it when it goes down."""
        self.down[d] += 1
        if self.down[d] == 1:
            if self.state[d] == 1:
                self.waiting = deque(x for x in self.waiting if x != d)
                self.state[d] = 0
            self.cut(d)
            self.listener.direction_down(d)

    def fail_tail(self, flow: Flow, keep: int) -> None:
        """A flow already sent but still propagating is cut: items from `keep` on never arrive."""
        if keep >= flow.limit:
            return
        sizes = np.diff(flow.cum, prepend=0.0)[keep:flow.limit]
        ok = np.ones(len(sizes), dtype=bool) if flow.lost is None else ~flow.lost[keep:flow.limit]
        moved = float(sizes[ok].sum())
        self.bytes_delivered -= moved
        self.bytes_lost += moved
        self.dir_delivered[flow.direction] -= moved
        failed = [int(i) for i in flow.ids[keep:flow.limit][ok] if i >= 0]
        flow.limit = keep
        self.queue[flow.direction][:0] = failed

    def set_up(self, d: int) -> None:
        """One reason less for direction d to be down; resume its queue when none is left."""
        self.down[d] -= 1
        if self.down[d] < 0:
            raise SimError(f"direction {d} brought up more often than down")
        if self.down[d] == 0 and self.state[d] == 0 and self.queue[d]:
            self._request(d)
