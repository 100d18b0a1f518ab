"""The SimPy engine: agents learn, publish and gossip packages over the network until all know all.

Compute model: an agent's device learns its tasks one after the other (time = MACs / rate, or the
measured wall time); merging received packages (student MACs / rate) runs on a separate serial
pipeline of the same agent, one package at a time in arrival order, and does not delay learning (the
paper's student cost is small next to learning). A package is held (refused if it comes again,
forwarded) from its arrival, and known (counted for makespan and coverage) once merged.
"""

from __future__ import annotations


import networkx as nx
import numpy as np
import simpy

from sim.config import GossipConfig, NetworkConfig
from sim.flows import LEARNED, WAKE, CountingEnvironment, Delay, Flow, call_at, rank
from sim.gossip import create_protocol
from sim.knowledge import Knowledge
from sim.metrics import RunState
from sim.network import Network, link_table
from sim.recorder import Event, Recorder
from sim.workload import Workload


class Engine:
    """One run's state: environment, knowledge, network, protocol, and the agents' processes."""

    def __init__(self, graph: nx.Graph, workload: Workload, rates: np.ndarray, network: NetworkConfig,
                 gossip: GossipConfig, seed: int, alpha: float, timing: str, recorder: Recorder) -> None:
        self.env = CountingEnvironment()
        self.graph = graph
        self.n_agents = graph.number_of_nodes()
        self.workload = workload
        self.rates = rates
        self.seed = seed
        self.timing = timing
        self.recorder = recorder
        n_tasks = workload.num_tasks
        merge_s = workload.column("student_macs")[None, :] / rates[:, None]
        if not merge_s.any():
            merge_s = np.zeros(n_tasks)
        self.knowledge = Knowledge(self.n_agents, n_tasks, merge_s, graph)
        self.config = network
        self.network = Network(self.env, self.n_agents, link_table(graph, network, rates, alpha), network,
                               workload.column("nbytes"), seed, self)
        self.in_dirs = [[self.network.index[v, u] for v in graph.neighbors(u)] for u in range(self.n_agents)]
        self.protocol = create_protocol(self, gossip)
        self.woken_by_arrivals = self.protocol.forwards or self.protocol.digests
        self.plan = [[] for _ in range(self.n_agents)]
        for task in workload.tasks:
            self.plan[task.owner].append(task)
        self.next_task = [0] * self.n_agents
        self.unfinished = sum(1 for p in self.plan if p)  # alive agents with tasks left to learn
        self.learners: dict[int, simpy.Process] = {}
        self.catching = [False] * self.n_agents
        self.wake_at = [np.inf] * self.n_agents
        self.attempts: dict[tuple[int, int], int] = {}
        self.crashed_at = np.zeros(self.n_agents)
        self.recoveries_due = 0  # crashed agents or cut links that a failure process will bring back
        self.resends_due = 0  # lost packages waiting for their retransmission timeout
        self.last_change = 0.0  # last time some agent learned or banked something, or came back
        # one flow never repeats a package unless loss retries or digests can queue it twice
        self.may_repeat = bool((self.network.loss > 0).any()) or self.protocol.digests
        self.teacher_macs = 0
        self.student_macs = 0.0
        self.student_vec = workload.column("student_macs")

    def child_rng(self, *key) -> np.random.Generator:
        """A generator derived from the root seed and a stable key (protocol name, agent, ...)."""
        words = [sum(ord(c) * 31 ** i for i, c in enumerate(k)) % 2**32 if isinstance(k, str) else k for k in key]
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(2, *words)))

    # -- learning -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start every agent's learning and the protocol's timers."""
        for agent in range(self.n_agents):
            if self.plan[agent]:
                self.start_learner(agent)
        self.protocol.start()

    def start_learner(self, agent: int) -> None:
        """Start (or restart after a recovery) an agent's learning process."""
        self.learners[agent] = self.env.process(learner(self.env, self, agent))

    def duration(self, agent: int, task) -> float:
        """Simulated seconds for `agent` to learn `task`."""
        return task.seconds(self.rates[agent], self.timing)

    def learned(self, agent: int, task) -> None:
        """An agent finished learning a task: bank it and publish it."""
        now = self.env.now
        self.teacher_macs += task.macs
        self.last_change = now
        self.next_task[agent] += 1
        if self.next_task[agent] == len(self.plan[agent]):
            self.unfinished -= 1
        self.catch_up(agent)
        if not self.knowledge.held[agent, task.task_id]:
            self.knowledge.own(agent, task.task_id, now)
        if self.recorder.wants_events:
            self.recorder.emit(Event(now, "learned", agent, (task.task_id,)))
        self.protocol.published(agent, task.task_id)

    def settled(self) -> bool:
        """No recovery is due, every alive agent has learned its tasks, and no exchange can bring
        anyone news: alive agents hold what every alive agent of their part of the graph holds
        (all of what the living hold, in a connected graph where nobody is dead)."""
        return self.unfinished == 0 and self.recoveries_due == 0 and self.knowledge.settled()

    def stalled(self, for_s: float) -> bool:
        """Learning is over, no recovery is due, no agent got anything new (and no agent or link
        came back) for `for_s` seconds and no package is still on its way (a slow or congested
        link may take longer than `for_s` to deliver one: that is not a stall)."""
        return (self.unfinished == 0 and self.recoveries_due == 0
                and self.env.now - self.last_change > for_s and not self.packages_on_the_way())

    def packages_on_the_way(self) -> bool:
        """Some package waits to be resent, is queued on a direction that is up, or has left its
        sender and not been taken in by its receiver yet (digests do not count)."""
        return (self.resends_due > 0 or self.network.packages_queued()
                or self.knowledge.packages_incoming())

    # -- network listener -------------------------------------------------------------------------
    def flow_started(self, flow: Flow) -> None:
        """A flow is on its way: its receiver may need a wake-up."""
        self.knowledge.expect(flow)
        self.wake(flow.dst, flow.entry)

    def flow_changed(self, flow: Flow) -> None:
        """A flow's rate changed: arrival times moved."""
        self.knowledge.moved(flow)
        self.wake(flow.dst)

    def flow_finished(self, flow: Flow, cut: bool) -> None:
        """Log the flow."""
        self.recorder.transfer(flow, self.env.now, cut)

    def item_lost(self, flow: Flow, index: int) -> None:
        """A package was lost: retransmit it after the timeout if the config says so."""
        task = int(flow.ids[index])
        if task < 0 or not self.config.reliable:
            return
        key = (flow.direction, task)
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if self.attempts[key] > self.config.max_retries:
            return
        at = float(flow.arr[index]) + self.config.loss_timeout_s
        if at <= self.env.now:
            self._resend(flow.direction, flow.src, task)
        else:
            self.resends_due += 1
            call_at(self.env, at, lambda _e: self._resend(flow.direction, flow.src, task, True))

    def _resend(self, d: int, src: int, task: int, timed: bool = False) -> None:
        """Queue a lost package again if its sender still holds it. A sender that is down keeps it
        queued on its down direction, like the packages its crash cut: it leaves on recovery, and
        a recovery without the bank clears it."""
        if timed:
            self.resends_due -= 1
        if self.knowledge.held[src, task]:
            self.network.send(d, (task,))

    def before_send(self, agent: int) -> None:
        """A direction of `agent` is about to send: catch up on arrivals first."""
        self.catch_up(agent)

    def direction_down(self, d: int) -> None:
        """Direction d was cut: what already left but has not arrived yet is lost too."""
        dst = self.network.dst_l[d]
        self.catch_up(dst)
        for entry in self.knowledge.inbox[dst]:
            flow = entry[0]
            if flow.direction == d and flow.ended and entry[1] < flow.limit:
                self.network.fail_tail(flow, entry[1])

    def idle(self, agent: int) -> None:
        """A direction of `agent` fell idle: arrivals may now need a wake-up."""
        self.wake(agent)

    # -- arrivals ---------------------------------------------------------------------------------
    def wake(self, agent: int, entry: list | None = None) -> None:
        """Make sure `agent` is woken when the next arrival needs action at its exact time
        (looking only at one new inbox entry when `entry` is given)."""
        if not self.knowledge.live[agent] or not self.woken_by_arrivals:
            return
        tokens_only = True
        if self.protocol.forwards:
            net = self.network
            state, down = net.state, net.down
            for d in net.out_dirs[agent]:
                if state[d] == 0 and down[d] == 0:
                    tokens_only = False
                    break
            if tokens_only and not self.protocol.digests:
                return
        at = self.knowledge.next_arrival(agent, tokens_only, entry)
        if at < self.wake_at[agent] or self.wake_at[agent] < self.env.now:
            if at == np.inf:
                return
            self.wake_at[agent] = at
            call_at(self.env, max(at, self.env.now), lambda _e: self._woken(agent, at),
                    rank(WAKE, agent, self.n_agents))

    def _woken(self, agent: int, at: float) -> None:
        """A wake-up fired: catch up (which also schedules the next one)."""
        if self.wake_at[agent] == at:
            self.wake_at[agent] = np.inf
        self.catch_up(agent)
        self.wake(agent)  # even if an earlier catch-up took the arrivals this wake-up was for

    def catch_up(self, agent: int, until: float | None = None) -> None:
        """Take in everything that arrived at `agent` until now; bank, forward, answer digests."""
        now = self.env.now if until is None else until
        know = self.knowledge
        if now < know.due[agent] or self.catching[agent] or not know.live[agent]:
            return  # nothing has arrived yet, or already catching up, or dead
        self.catching[agent] = True
        got = know.collect(agent, now)
        if got is not None and len(got[0]) == 1 and not isinstance(got[0], list):
            self._take_one(agent, *got)
        elif got is not None and len(got[0]) <= 64:
            self._take_few(agent, *got)
        elif got is not None:
            ids, srcs, times = got
            tokens = ids < 0
            if tokens.any():
                if isinstance(srcs, int):
                    srcs = np.full(len(ids), srcs)
                toks = list(zip(ids[tokens].tolist(), srcs[tokens].tolist()))
                ids, srcs, times = ids[~tokens], srcs[~tokens], times[~tokens]
            else:
                toks = []
            fresh = ~self.knowledge.held[agent, ids]
            if not fresh.all():
                ids, times = ids[fresh], times[fresh]
                if not isinstance(srcs, int):
                    srcs = srcs[fresh]
            if len(ids) > 1 and not isinstance(srcs, int) or self.may_repeat:
                _, first = np.unique(ids, return_index=True)
                if len(first) < len(ids):
                    first.sort()
                    ids, times = ids[first], times[first]
                    srcs = srcs if isinstance(srcs, int) else srcs[first]
            if len(ids):
                self._bank_new(agent, ids, times, srcs)
            for token, src in toks:
                self.protocol.token(agent, token, src)
        self.catching[agent] = False
        if got is not None:
            self.wake(agent)

    def _bank_new(self, agent: int, ids: np.ndarray, times: np.ndarray, srcs) -> None:
        """Bank packages new to `agent`, charge their student MACs, and let the protocol forward
        them (`srcs`: one sender, or one per package as an array or a list)."""
        self.last_change = self.env.now
        self.knowledge.bank(agent, ids, times)
        self.student_macs += float(self.student_vec[ids].sum())
        if self.recorder.wants_events:
            self.recorder.emit(Event(self.env.now, "banked", agent, tuple(ids.tolist())))
        self.protocol.received(agent, ids, srcs)

    def _take_one(self, agent: int, ids: np.ndarray, srcs, times: np.ndarray) -> None:
        """catch_up's work for a single arrived item (the common case), on scalars."""
        task = int(ids[0])
        src = srcs if isinstance(srcs, int) else int(srcs[0])
        if task < 0:
            self.protocol.token(agent, task, src)
        elif not self.knowledge.held[agent, task]:
            self.last_change = self.env.now
            self.knowledge.bank(agent, ids, times)
            self.student_macs += float(self.student_vec[task])
            if self.recorder.wants_events:
                self.recorder.emit(Event(self.env.now, "banked", agent, (task,)))
            self.protocol.received(agent, ids, src)

    def _take_few(self, agent: int, ids: np.ndarray, srcs, times: np.ndarray) -> None:
        """catch_up's work for a few arrived items: the same filtering (tokens apart, held
        dropped, first copy of a repeat kept) done in one Python pass instead of numpy calls.
        Items from several flows come as Python lists: filtered as lists, made arrays once."""
        if isinstance(ids, list):
            self._take_listed(agent, ids, srcs, times)
            return
        one_src = isinstance(srcs, int)
        ids_l = ids.tolist()
        toks, keep = self.knowledge.sift(agent, ids_l, self.may_repeat or not one_src)
        if toks:
            srcs_l = [srcs] * len(ids_l) if one_src else srcs.tolist()
            toks = [(ids_l[i], srcs_l[i]) for i in toks]
            if one_src:
                srcs = np.full(len(ids_l), srcs)
        if len(keep) < len(ids_l):
            pick = np.array(keep, dtype=np.int64)
            ids, times = ids[pick], times[pick]
            if not isinstance(srcs, int):
                srcs = srcs[pick]
        if keep:
            self._bank_new(agent, ids, times, srcs)
        for token, src in toks:
            self.protocol.token(agent, token, src)

    def _take_listed(self, agent: int, ids: list[int], srcs: list[int], times: list[float]) -> None:
        """`_take_few` for items of several flows given as Python lists (see Knowledge.collect)."""
        toks, keep = self.knowledge.sift(agent, ids, True)
        toks = [(ids[i], srcs[i]) for i in toks]
        if keep:
            if len(keep) < len(ids):
                ids, srcs, times = [ids[i] for i in keep], [srcs[i] for i in keep], [times[i] for i in keep]
            self._bank_new(agent, np.array(ids, dtype=np.int64), np.array(times, dtype=np.float64), srcs)
        for token, src in toks:
            self.protocol.token(agent, token, src)

    # -- results ------------------------------------------------------------------------------------
    def run_state(self) -> RunState:
        """The finished run's state, for compute_metrics."""
        know, net = self.knowledge, self.network
        return RunState(
            known_at=know.known_at, held=know.held, alive=know.alive, removed=know.removed,
            workload=self.workload, rates=self.rates, timing=self.timing, src=net.src, dst=net.dst,
            dir_sent=np.asarray(net.dir_sent), dir_delivered=np.asarray(net.dir_delivered),
            bytes_sent=net.bytes_sent, bytes_delivered=net.bytes_delivered, bytes_lost=net.bytes_lost,
            teacher_macs=self.teacher_macs, student_macs=self.student_macs, transfers=len(self.recorder),
            events=self.env.events_processed,
        )

    # -- failures (see sim/failures.py for crash and recovery) -------------------------------------
    def quiet(self) -> bool:
        """No learning left, and nothing more can spread (or nothing is on the network): random
        failures may stop. (push_pull's digests keep the network busy until settled.)"""
        return self.unfinished == 0 and (self.settled() or not self.network.busy())


def learner(env: simpy.Environment, engine: Engine, agent: int):
    """An agent's learning process: its tasks in order; a crash ends it (recovery starts anew)."""
    plan = engine.plan[agent]
    while engine.next_task[agent] < len(plan):
        task = plan[engine.next_task[agent]]
        try:
            yield Delay(env, engine.duration(agent, task), rank(LEARNED, agent, engine.n_agents))
        except simpy.Interrupt:
            return
        engine.learned(agent, task)
