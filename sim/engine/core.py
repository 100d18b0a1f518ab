"""The SimPy engine, the reference semantics: agents learn, publish and gossip packages until all know all.

Compute model: an agent's device learns its tasks one after the other (time = MACs / rate, or the
measured wall time); merging received packages (student MACs / rate) runs on a separate serial
pipeline of the same agent, one package at a time in arrival order (in merge batches where merging
has per-batch work: sim.engine.merging), and does not delay learning (the paper's student cost is
small next to learning). A package is held (refused if it comes again,
forwarded) from its arrival, and known (counted for makespan and coverage) once merged.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import simpy

from sim.config import GossipConfig, NetworkConfig
from sim.engine.events import CountingEnvironment, call_at
from sim.engine.flows import Flow
from sim.engine.host import Gossip
from sim.engine.knowledge import Knowledge
from sim.engine.learning import learner
from sim.engine.network import Network
from sim.errors import SimError
from sim.links import link_table, nic_caps
from sim.metrics import RunState
from sim.protocols import protocol
from sim.ranks import WAKE, rank
from sim.recorder import Event, Recorder
from sim.workload import Workload


class Engine:
    """One run's state: environment, knowledge, network, protocol, and the agents' processes.

    It is the protocols' `Host` (sim.engine.host) and the network's `Listener`; failure processes
    act through `crash`, `recover`, `links_down` and `links_up`."""

    # Take one arrived item on scalars, not through the reference intake `_take` (test_core.py: same results).
    fast_intake = True
    relearn_after_wipe = False  # failures.relearn_after_wipe, set by sim.engine.failures
    teacher, lessons = None, ()  # co-simulation (sim.teacher): set by sim.engine.run, used by its learning.lesson

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
        self.knowledge = Knowledge.of_workload(workload, rates, graph)
        self.held = self.knowledge.held
        self.config = network
        self.network = Network(self.env, self.n_agents, link_table(graph, network, rates, alpha), network,
                               workload.column("nbytes"), seed, self, nic_caps(graph, network, alpha, seed))
        self.out_dirs = self.network.out_dirs
        self.dst_of = self.network.dst_l
        self.send = self.network.send
        self.sending = self.network.sending  # per_package transfers open on a direction (Host.sending)
        self.in_dirs = [[self.network.index[v, u] for v in graph.neighbors(u)] for u in range(self.n_agents)]
        self.protocol: Gossip = protocol(gossip.protocol).implementation()(self, gossip)
        self.woken_by_arrivals = self.protocol.forwards or self.protocol.digests
        self.plan = [[] for _ in range(self.n_agents)]
        for task in workload.tasks:
            self.plan[task.owner].append(task)
        self.next_task = [0] * self.n_agents
        self.relearn_until = [0] * self.n_agents  # plan positions below this are relearned after a wipe
        self.reached = [0] * self.n_agents  # furthest plan position each agent ever finished
        self.unfinished = sum(1 for p in self.plan if p)  # alive agents with tasks left to learn
        self.unlearned = self.unfinished  # ... with tasks left never learned yet (not only relearning)
        self.learners: dict[int, simpy.Process] = {}
        self.catching = [False] * self.n_agents
        self.wake_at = [np.inf] * self.n_agents
        self.attempts: dict[tuple[int, int], int] = {}
        self.crashed_at = np.zeros(self.n_agents)
        self.recoveries_due = 0  # crashed agents or cut links that a failure process will bring back
        self.resends_due = 0  # lost packages waiting for their retransmission timeout
        self.last_change = 0.0  # last time some agent learned or banked something, or came back
        self.teacher_macs = 0
        self.student_macs = 0.0
        self.student_vec = workload.column("student_macs")

    # -- what protocols may touch (sim.engine.host.Host) ------------------------------------------
    def child_rng(self, *key: str | int) -> np.random.Generator:
        """A generator derived from the root seed and a stable key (protocol name, agent, ...)."""
        words = [sum(ord(c) * 31 ** i for i, c in enumerate(k)) % 2**32 if isinstance(k, str) else k for k in key]
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(2, *words)))

    def direction(self, src: int, dst: int) -> int:
        """The direction from `src` to its neighbour `dst`."""
        return self.network.index[src, dst]

    def queued(self, d: int) -> list[int]:
        """Items waiting on direction d."""
        return self.network.queue[d]

    def can_open(self, d: int) -> bool:
        """Direction d can carry a new exchange now: up, not sending, nothing queued."""
        net = self.network
        return net.state[d] == 0 and not net.queue[d] and not net.down[d]

    def is_alive(self, agent: int) -> bool:
        """The agent is up."""
        return self.knowledge.live[agent]

    def set_digest_size(self, token: int, nbytes: float) -> None:
        """Digest `token` weighs `nbytes` on the links."""
        self.network.set_digest_size(token, nbytes)

    def forget_digest(self, token: int) -> None:
        """Digest `token` has been taken in."""
        self.network.forget_digest(token)

    def settled(self, awaiting_recoveries: bool = True) -> bool:
        """The stop condition: learning is over, no recovery is due, and nothing more can spread:
        no exchange can bring anyone news (alive agents hold what every alive agent of their part
        of the graph holds), or, for a protocol without timers, nothing is on the network or
        waiting to be resent. push_pull's timers stop on it. The random failure processes ask with
        `awaiting_recoveries=False`: the recoveries and relearning (relearn_after_wipe) they will
        bring about themselves must not keep them crashing agents once the living have settled
        (they would churn without end)."""
        if (self.unfinished if awaiting_recoveries else self.unlearned) or (awaiting_recoveries and self.recoveries_due):
            return False
        if self.knowledge.settled():
            return True
        return not self.protocol.timers and self.resends_due == 0 and not self.network.busy()

    def idle_for(self, seconds: float) -> bool:
        """Learning is over, no recovery is due, no agent got anything new (and no agent or link
        came back) for `seconds` and no package is on its way (a slow or congested link may take
        longer than that to deliver one: that is not idle). push_pull's opt-in give-up rule."""
        return (self.unfinished == 0 and self.recoveries_due == 0 and self.env.now - self.last_change > seconds
                and self.resends_due == 0 and not self.network.packages_queued()
                and not self.knowledge.packages_incoming())

    # -- learning -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start every agent's learning and the protocol's timers."""
        for agent in range(self.n_agents):
            if self.plan[agent]:
                self.start_learner(agent)
        self.protocol.start()

    def start_learner(self, agent: int) -> None:
        """Start (or restart after a recovery) an agent's learning process."""
        self.learners[agent] = self.env.process(learner(self.env, self, agent))  # sim.engine.learning

    def duration(self, agent: int, task) -> float:
        """Simulated seconds for `agent` to learn `task`."""
        return task.seconds(self.rates[agent], self.timing)

    def learned(self, agent: int, task, macs: int | None = None) -> None:
        """An agent finished learning a task (at `macs`, the lesson's: co-simulation): bank, publish it."""
        now = self.env.now
        self.teacher_macs += task.macs if macs is None else macs
        self.last_change = now
        self.advance(agent)
        self.catch_up(agent)
        if not self.knowledge.held[agent, task.task_id]:
            self.knowledge.own(agent, task.task_id, now)
        if self.recorder.wants_events:
            self.recorder.emit(Event(now, "learned", agent, (task.task_id,)))
        self.protocol.published(agent, task.task_id)

    def advance(self, agent: int) -> None:
        """The agent is done with the task at its plan position: move on (its plan may be over)."""
        self.next_task[agent] += 1
        if self.next_task[agent] == len(self.plan[agent]):
            self.unfinished -= 1
        if self.next_task[agent] > self.reached[agent]:
            self.reached[agent] = self.next_task[agent]
            self.unlearned -= self.reached[agent] == len(self.plan[agent])

    # -- failures (the processes in sim/engine/failures.py) ---------------------------------------
    def crash(self, agent: int, recovers: bool = False, keep_bank: bool | None = None) -> None:
        """The agent dies: learning stops and its flows are cut (merges pause until it recovers);
        `recovers`: a failure process will bring it back (counted even if it was dead already);
        `keep_bank`: whether that recovery keeps the bank (recorded on the event only)."""
        if recovers:
            self.recoveries_due += 1
        if not self.knowledge.live[agent]:
            return
        now = self.env.now
        self.catch_up(agent)
        self.crashed_at[agent] = now
        self.knowledge.set_alive(agent, False)
        if self.next_task[agent] < len(self.plan[agent]):
            self.unfinished -= 1
        self.unlearned -= self.reached[agent] < len(self.plan[agent])
        process = self.learners.pop(agent, None)
        if process is not None and process.is_alive:
            process.interrupt("crash")
        for d in self.out_dirs[agent] + self.in_dirs[agent]:
            self.network.set_down(d)
        self.knowledge.drop_inbox(agent)
        self.recorder.emit(Event(now, "crashed", agent, keep_bank=keep_bank if recovers else None))

    def recover(self, agent: int, keep_bank: bool) -> None:
        """The recovery a `crash(recovers=True)` announced: the agent comes back, with or without
        its bank, and resumes learning (first relearning its finished tasks, if its bank was wiped
        and `relearn_after_wipe`)."""
        self._recovery_done()
        if self.knowledge.live[agent]:
            return
        now = self.env.now
        if keep_bank:  # merges cut by the crash resume where they stopped
            self.knowledge.resume_merges(agent, self.crashed_at[agent], now)
        else:
            self.knowledge.restart(agent, now)
            self.network.clear_queues(self.out_dirs[agent])
            if self.relearn_after_wipe:  # its finished tasks went with the bank: learn them again
                self.relearn_until[agent] = max(self.relearn_until[agent], self.next_task[agent])
                self.next_task[agent] = 0
        self.knowledge.set_alive(agent, True)
        self.unlearned += self.reached[agent] < len(self.plan[agent])
        if self.next_task[agent] < len(self.plan[agent]):
            self.unfinished += 1
            self.start_learner(agent)
        for d in self.out_dirs[agent] + self.in_dirs[agent]:
            self.network.set_up(d)
        self.last_change = now  # a return is news: the idle clock of push_pull starts again
        self.protocol.recovered(agent)
        self.recorder.emit(Event(now, "recovered", agent, keep_bank=keep_bank))

    def links_down(self, dirs: list[int], heals: bool = False) -> None:
        """Cut link directions now; `heals`: a failure process will bring them back (anti-entropy
        must not give up before it does)."""
        for d in dirs:
            self.network.set_down(d)
        if heals:
            self.recoveries_due += 1

    def links_up(self, dirs: list[int], healed: bool = False) -> None:
        """Bring link directions back (`healed`: the ones `links_down(heals=True)` announced)."""
        if healed:
            self._recovery_done()
        for d in dirs:
            self.network.set_up(d)
        self.last_change = self.env.now  # a healed cut is news: the idle clock of push_pull starts again

    def _recovery_done(self) -> None:
        """One announced recovery happened (a recovery nobody announced is a bug in a failure process)."""
        self.recoveries_due -= 1
        if self.recoveries_due < 0:
            raise SimError("internal: a recovery that no crash or outage announced; please report this run")

    # -- network listener (sim.engine.network.Listener) -------------------------------------------
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
        lost = flow.lost is not None and bool(flow.lost[:flow.limit].any())
        outcome = "cut" if cut else ("lost" if lost else "delivered")
        self.recorder.transfer(flow.opened, self.env.now, flow.src, flow.dst, flow.sent, outcome, flow.ids)

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
        for flow, keep in self.knowledge.in_flight(dst, d):
            self.network.fail_tail(flow, keep)

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
            state, down, any_state = net.state, net.down, net.per_package  # per_package: a busy direction takes a send at once
            for d in net.out_dirs[agent]:
                if (state[d] == 0 or any_state) and down[d] == 0:
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
        """Take in everything that arrived at `agent` until now (in arrival order)."""
        now = self.env.now if until is None else until
        know = self.knowledge
        if now < know.due[agent] or self.catching[agent] or not know.live[agent]:
            return  # nothing has arrived yet, or already catching up, or dead
        self.catching[agent] = True
        got = know.collect(agent, now)
        if got is not None:
            if self.fast_intake and len(got[0]) == 1:
                self._take_one(agent, got[0][0], got[1][0], got[2])
            else:
                self._take(agent, *got)
        self.catching[agent] = False
        if got is not None:
            self.wake(agent)

    def _take(self, agent: int, ids: list[int], srcs: list[int], times: list[float]) -> None:
        """The reference intake: digest tokens apart, packages the agent holds dropped, the first
        copy of a repeat kept; bank the new packages, let the protocol relay them, then let it
        answer the digests, all in arrival order."""
        toks, keep = self.knowledge.sift(agent, ids)
        if keep:
            if len(keep) < len(ids):
                ids_k, srcs_k, times_k = [ids[i] for i in keep], [srcs[i] for i in keep], [times[i] for i in keep]
            else:
                ids_k, srcs_k, times_k = ids, srcs, times
            self.last_change = self.env.now
            macs = self.knowledge.bank(agent, ids_k, times_k)  # None: each package its student_macs
            self.student_macs += float(self.student_vec[ids_k].sum()) if macs is None else macs
            if self.recorder.wants_events:
                self.recorder.emit(Event(self.env.now, "banked", agent, tuple(ids_k)))
            self.protocol.received(agent, ids_k, srcs_k)
        for i in toks:
            self.protocol.token(agent, ids[i], srcs[i])

    def _take_one(self, agent: int, task: int, src: int, times: list[float]) -> None:
        """`_take` for a single arrived item (the common case), on scalars."""
        if task < 0:
            self.protocol.token(agent, task, src)
        elif not self.knowledge.held[agent, task]:
            self.last_change = self.env.now
            macs = self.knowledge.bank(agent, [task], times)
            self.student_macs += float(self.student_vec[task]) if macs is None else macs
            if self.recorder.wants_events:
                self.recorder.emit(Event(self.env.now, "banked", agent, (task,)))
            self.protocol.received(agent, [task], [src])

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

