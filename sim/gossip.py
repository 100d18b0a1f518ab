"""Gossip protocols: what an agent sends when it learns, receives, or its anti-entropy timer fires."""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from sim import draws
from sim.config import BroadcastConfig, FloodConfig, PushConfig, PushPullConfig
from sim.errors import SimError
from sim.flows import TIMER, Delay, rank

if TYPE_CHECKING:
    from sim.engine import Engine


class Broadcast:
    """The paper's setting: the teacher sends each package straight to every other agent."""

    forwards = False  # receivers never relay, so arrivals need no wake-up
    digests = False

    def __init__(self, engine: "Engine", config: BroadcastConfig) -> None:
        self.engine = engine

    def start(self) -> None:
        """Nothing runs on a timer."""

    def published(self, agent: int, task: int) -> None:
        """Send the new package to every neighbour (= every other agent)."""
        for d in self.engine.network.out_dirs[agent]:
            self.engine.network.send(d, (task,))

    def received(self, agent: int, ids: np.ndarray, srcs: np.ndarray) -> None:
        """Receivers keep what they get."""

    def token(self, agent: int, token: int, src: int) -> None:
        """Broadcast sends no digests."""

    def recovered(self, agent: int) -> None:
        """Nothing is sent again for an agent that comes back."""


class Flood:
    """Forward each new package to every neighbour except the one it came from."""

    forwards = True
    digests = False

    def __init__(self, engine: "Engine", config: FloodConfig) -> None:
        self.engine = engine

    def start(self) -> None:
        """Nothing runs on a timer."""

    def published(self, agent: int, task: int) -> None:
        """Send the new package to every neighbour."""
        for d in self.engine.network.out_dirs[agent]:
            self.engine.network.send(d, (task,))

    def received(self, agent: int, ids: np.ndarray, srcs) -> None:
        """Relay new packages to every neighbour but their sender, in arrival order (`srcs`: one
        sender, or one per package as an array or, from the engine's few-item path, a list)."""
        net = self.engine.network
        if isinstance(srcs, int):  # one sender
            src, items = srcs, ids.tolist()
            for d in net.out_dirs[agent]:
                if net.dst_l[d] != src:
                    net.send(d, items)
            return
        if isinstance(srcs, list):  # the same filter as below, on Python lists
            items = ids.tolist()
            for d in net.out_dirs[agent]:
                dst = net.dst_l[d]
                keep = [i for i, s in zip(items, srcs) if s != dst]
                if keep:
                    net.send(d, keep)
            return
        if srcs[0] == srcs[-1] and (len(srcs) < 3 or (srcs == srcs[0]).all()):  # one sender
            src, items = srcs[0], ids.tolist()
            for d in net.out_dirs[agent]:
                if net.dst_l[d] != src:
                    net.send(d, items)
            return
        for d in net.out_dirs[agent]:
            keep = ids[srcs != net.dst_l[d]]
            if len(keep):
                net.send(d, keep.tolist())

    def token(self, agent: int, token: int, src: int) -> None:
        """Flood sends no digests."""

    def recovered(self, agent: int) -> None:
        """Nothing is sent again for an agent that comes back."""


class Push:
    """Forward each new package to `fanout` random neighbours, at most `rounds` hops from its owner."""

    forwards = True
    digests = False

    def __init__(self, engine: "Engine", config: PushConfig) -> None:
        self.engine = engine
        self.config = config
        self.hops: dict[tuple[int, int], int] = {}  # (agent, task) -> hops the package travelled
        self.rng = engine.child_rng("push")

    def start(self) -> None:
        """Nothing runs on a timer."""

    def _push(self, agent: int, task: int, exclude: int) -> None:
        """Send one package to `fanout` distinct random neighbours other than `exclude`."""
        net = self.engine.network
        dirs = [d for d in net.out_dirs[agent] if net.dst[d] != exclude]
        k = min(self.config.fanout, len(dirs))
        if k == 0:
            return
        for i in self.rng.choice(len(dirs), size=k, replace=False):
            net.send(dirs[int(i)], (task,))

    def published(self, agent: int, task: int) -> None:
        """The owner pushes its new package (hop 0)."""
        self.hops[agent, task] = 0
        self._push(agent, task, exclude=-1)

    def received(self, agent: int, ids: np.ndarray, srcs) -> None:
        """Push each new package on while it has travelled fewer than `rounds` hops."""
        srcs = [srcs] * len(ids) if isinstance(srcs, int) else srcs if isinstance(srcs, list) else srcs.tolist()
        for task, src in zip(ids.tolist(), srcs):
            hops = self.hops.get((src, task), 0) + 1
            self.hops[agent, task] = hops
            if hops < self.config.rounds:
                self._push(agent, task, exclude=src)

    def token(self, agent: int, token: int, src: int) -> None:
        """Push sends no digests."""

    def recovered(self, agent: int) -> None:
        """Nothing is sent again for an agent that comes back."""


class PushPull:
    """Anti-entropy: every period an agent sends its digest to a random neighbour, which answers
    with its own digest and the packages the first lacks; the first then sends what the second
    lacks. Digest bytes (digest_bytes_per_id per held id) travel on the links like packages. A
    round whose link is busy (sending, data queued, or down) is skipped, and an ask that finds an
    answer still waiting on the link back refreshes that answer instead of queueing another:
    otherwise, on links slower than one digest per period, or down, digests would pile up without
    end and the run would never finish. The timers stop once no exchange can bring news
    (Engine.settled) and start again when an agent recovers."""

    forwards = False  # received packages are not relayed at once; only digests need wake-ups
    digests = True

    def __init__(self, engine: "Engine", config: PushPullConfig) -> None:
        self.engine = engine
        self.config = config
        self.tokens: dict[int, tuple[str, int, np.ndarray]] = {}  # token -> (kind, sender, held)
        self.next_token = -1
        n = engine.n_agents
        self.keys = [draws.stream_key(engine.seed, "push_pull", agent) for agent in range(n)]
        self.rounds = [0] * n  # rounds each agent's timer has run (round r draws number r + 1)
        self.asleep = [False] * n  # timers stopped because no exchange could bring news
        self.gave_up = False  # idle_rounds ran out: every timer stops (not one agent alone)

    def start(self) -> None:
        """One timer process per agent, phases spread by the seed so agents do not fire together."""
        for agent in range(self.engine.n_agents):
            phase = draws.uniform(self.keys[agent], 0) * self.config.period_s
            self.engine.env.process(self._timer(self.engine.env, agent, phase))

    def recovered(self, agent: int) -> None:
        """An agent is back (maybe with an empty bank): wake the timers that stopped, one period
        from now."""
        for a in range(self.engine.n_agents):
            if self.asleep[a]:
                self.asleep[a] = False
                self.engine.env.process(self._timer(self.engine.env, a, self.config.period_s))

    def idle(self, d: int) -> bool:
        """Direction d can carry a new exchange now: up, not sending, nothing queued."""
        net = self.engine.network
        return net.state[d] == 0 and not net.queue[d] and not net.down[d]

    def _timer(self, env, agent: int, first_s: float):
        """Every period from `first_s` on: if alive, open an exchange with a random neighbour. The
        phase is draw 0 of the agent's stream and round r's neighbour draw r + 1 (the compiled loop
        draws the same)."""
        priority = rank(TIMER, agent, self.engine.n_agents)
        yield Delay(env, first_s, priority)
        idle_s = idle_rounds(self.config) * self.config.period_s
        while self.config.max_rounds is None or self.rounds[agent] < self.config.max_rounds:
            if self.engine.settled():
                self.asleep[agent] = True
                return
            if self.gave_up or self.engine.stalled(idle_s):
                self.gave_up = True
                return
            if self.engine.knowledge.live[agent]:
                dirs = self.engine.network.out_dirs[agent]
                if dirs:
                    d = dirs[draws.below(self.keys[agent], self.rounds[agent] + 1, len(dirs))]
                    if self.idle(d):  # a link still sending (or down): this round is skipped
                        self._digest(agent, d, "ask")
            self.rounds[agent] += 1
            yield Delay(env, self.config.period_s, priority)

    def _digest(self, agent: int, d: int, kind: str, extra: list[int] = ()) -> None:
        """Send a digest of what `agent` holds now on direction d, followed by `extra` packages."""
        self.engine.catch_up(agent)
        token = self.next_token
        self.next_token -= 1
        self._digest_of(agent, token, kind)
        self.engine.network.send(d, [token, *extra])

    def _digest_of(self, agent: int, token: int, kind: str) -> None:
        """Digest `token` lists what `agent` holds now (its bytes follow)."""
        held = self.engine.knowledge.held[agent].copy()
        self.tokens[token] = (kind, agent, held)
        self.engine.network.digest_sizes[token] = float(self.config.digest_bytes_per_id * np.count_nonzero(held))

    def _queued_answer(self, d: int) -> int | None:
        """The answer digest waiting (not sent yet) on direction d, if any."""
        for item in self.engine.network.queue[d]:
            if item < 0 and self.tokens[item][0] == "answer":
                return item
        return None

    def _missing(self, agent: int, other_held: np.ndarray, d: int) -> list[int]:
        """Packages `agent` holds that the digest lacks and that are not already queued on d."""
        # `a > b` is `a & ~b` on bools in one numpy call; nonzero()[0] is flatnonzero without its
        # Python wrapper (this runs twice per exchange, hundreds of thousands of times)
        want = self.engine.knowledge.held[agent] > other_held
        queued = self.engine.network.queue[d]
        if queued:
            if len(queued) <= 16:  # a set test is much cheaper than numpy calls here
                queued = set(queued)
                return [i for i in want.nonzero()[0].tolist() if i not in queued]
            q = np.array(queued, dtype=np.int64)
            want[q[q >= 0]] = False  # `want` is a fresh array
        return want.nonzero()[0].tolist()

    def token(self, agent: int, token: int, src: int) -> None:
        """A digest arrived at `agent` from `src`: answer it."""
        kind, _, other_held = self.tokens.pop(token)
        self.engine.network.digest_sizes.pop(token, None)
        d = self.engine.network.index[agent, src]
        if kind == "ask":
            queued = self._queued_answer(d)
            if queued is None:
                self._digest(agent, d, "answer", self._missing(agent, other_held, d))
            else:  # an answer still waits on d: it now lists what `agent` holds now, and the
                self._digest_of(agent, queued, "answer")  # packages follow it (one digest queued)
                missing = self._missing(agent, other_held, d)
                if missing:
                    self.engine.network.send(d, missing)
        else:
            missing = self._missing(agent, other_held, d)
            if missing:
                self.engine.network.send(d, missing)

    def published(self, agent: int, task: int) -> None:
        """New packages wait for the next exchange."""

    def received(self, agent: int, ids: np.ndarray, srcs: np.ndarray) -> None:
        """Received packages wait for the next exchange."""


def idle_rounds(config: PushPullConfig) -> float:
    """Periods without news after which push_pull gives up (config.idle_rounds; inf when unset:
    the exchanges then go on until none can bring news, see Engine.settled)."""
    return np.inf if config.idle_rounds is None else config.idle_rounds


PROTOCOLS = {"broadcast": Broadcast, "flood": Flood, "push": Push, "push_pull": PushPull}


def create_protocol(engine: "Engine", config) -> object:
    """The protocol object for a validated GossipConfig."""
    return PROTOCOLS[config.protocol](engine, config)


def check_protocol(graph: nx.Graph, config) -> None:
    """The graph suits the protocol: broadcast needs a full graph, push a fanout within every degree."""
    n = graph.number_of_nodes()
    if config.protocol == "broadcast" and graph.number_of_edges() != n * (n - 1) // 2:
        raise SimError(
            f"gossip.protocol='broadcast' needs a full graph (every agent linked to every other); "
            f"this graph has {graph.number_of_edges()} of {n * (n - 1) // 2} edges: "
            "use a 'full' topology or protocol 'flood'"
        )
    if config.protocol == "push":
        smallest = min(d for _, d in graph.degree())
        if config.fanout > smallest:
            raise SimError(
                f"gossip.fanout={config.fanout} is larger than the smallest degree {smallest}; "
                f"choose fanout <= {smallest}"
            )


def check_connected(graph: nx.Graph) -> None:
    """Gossip needs at least one edge and no isolated agent."""
    isolated = [v for v, d in graph.degree() if d == 0]
    if isolated and graph.number_of_nodes() > 1:
        raise SimError(f"agents {isolated[:10]} have no links; every agent needs a neighbour")
