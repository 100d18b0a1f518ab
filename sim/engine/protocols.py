"""Gossip protocols (the SimPy reference): what an agent sends when it learns, receives, or its
anti-entropy timer fires. Each is registered once, on its config class (sim.config, sim.protocols)."""

from __future__ import annotations

import numpy as np

from sim import draws
from sim.config import PushConfig, PushPullConfig
from sim.engine.events import Delay
from sim.engine.host import Gossip, Host
from sim.ranks import TIMER, rank


class Broadcast(Gossip):
    """The paper's setting: the teacher sends each package straight to every other agent."""

    def published(self, agent: int, task: int) -> None:
        """Send the new package to every neighbour (= every other agent)."""
        for d in self.host.out_dirs[agent]:
            self.host.send(d, (task,))


class Flood(Gossip):
    """Forward each new package to every neighbour except the one it came from."""

    forwards = True

    def published(self, agent: int, task: int) -> None:
        """Send the new package to every neighbour."""
        for d in self.host.out_dirs[agent]:
            self.host.send(d, (task,))

    def received(self, agent: int, ids: list[int], srcs: list[int]) -> None:
        """Relay new packages to every neighbour but their sender, in arrival order."""
        send, dst_of = self.host.send, self.host.dst_of
        first = srcs[0]
        if len(srcs) == 1 or srcs.count(first) == len(srcs):  # one sender: the common case
            for d in self.host.out_dirs[agent]:
                if dst_of[d] != first:
                    send(d, ids)
            return
        for d in self.host.out_dirs[agent]:
            dst = dst_of[d]
            keep = [i for i, s in zip(ids, srcs) if s != dst]
            if keep:
                send(d, keep)


class Push(Gossip):
    """Forward each new package to `fanout` random neighbours, at most `rounds` hops from its owner."""

    forwards = True

    def __init__(self, host: Host, config: PushConfig) -> None:
        super().__init__(host, config)
        self.hops: dict[tuple[int, int], int] = {}  # (agent, task) -> hops the package travelled
        self.rng = host.child_rng("push")

    def _push(self, agent: int, task: int, exclude: int) -> None:
        """Send one package to `fanout` distinct random neighbours other than `exclude`."""
        host = self.host
        dirs = [d for d in host.out_dirs[agent] if host.dst_of[d] != exclude]
        k = min(self.config.fanout, len(dirs))
        if k == 0:
            return
        for i in self.rng.choice(len(dirs), size=k, replace=False):
            host.send(dirs[int(i)], (task,))

    def published(self, agent: int, task: int) -> None:
        """The owner pushes its new package (hop 0)."""
        self.hops[agent, task] = 0
        self._push(agent, task, exclude=-1)

    def received(self, agent: int, ids: list[int], srcs: list[int]) -> None:
        """Push each new package on while it has travelled fewer than `rounds` hops."""
        for task, src in zip(ids, srcs):
            hops = self.hops.get((src, task), 0) + 1
            self.hops[agent, task] = hops
            if hops < self.config.rounds:
                self._push(agent, task, exclude=src)


class PushPull(Gossip):
    """Anti-entropy: every period an agent sends its digest to a random neighbour, which answers
    with its own digest and the packages the first lacks; the first then sends what the second
    lacks. Digest bytes (digest_bytes_per_id per held id) travel on the links like packages. A
    round whose link is busy (sending, data queued, or down) is skipped, and an ask that finds an
    answer still waiting on the link back refreshes that answer instead of queueing another:
    otherwise, on links slower than one digest per period, or down, digests would pile up without
    end and the run would never finish. Under per_package streams nothing waits behind a stream
    (every item is its own transfer at once), so what is still being sent on the link back plays
    that part: an ask that finds an answer on its way there gets no second answer, and no package
    is sent again while a copy is on its way on the same direction (else copies of every missing
    package join the transfers each period, share the link ever more thinly, and none ends). The
    timers stop once no exchange can bring news (Engine.settled) and start again when an agent
    recovers."""

    digests = True  # received packages are not relayed at once; only digests need wake-ups
    timers = True

    def __init__(self, host: Host, config: PushPullConfig) -> None:
        super().__init__(host, config)
        self.tokens: dict[int, tuple[str, int, np.ndarray]] = {}  # token -> (kind, sender, held)
        self.next_token = -1
        n = host.n_agents
        self.keys = [draws.stream_key(host.seed, "push_pull", agent) for agent in range(n)]
        self.rounds = [0] * n  # rounds each agent's timer has run (round r draws number r + 1)
        self.asleep = [False] * n  # timers stopped because no exchange could bring news
        self.gave_up = False  # idle_rounds ran out: every timer stops (not one agent alone)

    def start(self) -> None:
        """One timer process per agent, phases spread by the seed so agents do not fire together."""
        for agent in range(self.host.n_agents):
            phase = draws.uniform(self.keys[agent], 0) * self.config.period_s
            self.host.env.process(self._timer(self.host.env, agent, phase))

    def recovered(self, agent: int) -> None:
        """An agent is back (maybe with an empty bank): wake the timers that stopped, one period
        from now."""
        for a in range(self.host.n_agents):
            if self.asleep[a]:
                self.asleep[a] = False
                self.host.env.process(self._timer(self.host.env, a, self.config.period_s))

    def _timer(self, env, agent: int, first_s: float):
        """Every period from `first_s` on: if alive, open an exchange with a random neighbour. The
        phase is draw 0 of the agent's stream and round r's neighbour draw r + 1 (the compiled loop
        draws the same)."""
        priority = rank(TIMER, agent, self.host.n_agents)
        yield Delay(env, first_s, priority)
        idle_s = self.config.idle_s
        while self.config.max_rounds is None or self.rounds[agent] < self.config.max_rounds:
            if self.host.settled():
                self.asleep[agent] = True
                return
            if self.gave_up or self.host.idle_for(idle_s):
                self.gave_up = True
                return
            if self.host.is_alive(agent):
                dirs = self.host.out_dirs[agent]
                if dirs:
                    d = dirs[draws.below(self.keys[agent], self.rounds[agent] + 1, len(dirs))]
                    if self.host.can_open(d):  # a link still sending (or down): this round is skipped
                        self._digest(agent, d, "ask")
            self.rounds[agent] += 1
            yield Delay(env, self.config.period_s, priority)

    def _digest(self, agent: int, d: int, kind: str, extra: list[int] = ()) -> None:
        """Send a digest of what `agent` holds now on direction d, followed by `extra` packages."""
        self.host.catch_up(agent)
        token = self.next_token
        self.next_token -= 1
        self._digest_of(agent, token, kind)
        self.host.send(d, [token, *extra])

    def _digest_of(self, agent: int, token: int, kind: str) -> None:
        """Digest `token` lists what `agent` holds now (its bytes follow)."""
        held = self.host.held[agent].copy()
        self.tokens[token] = (kind, agent, held)
        self.host.set_digest_size(token, float(self.config.digest_bytes_per_id * np.count_nonzero(held)))

    def _answer_in(self, items: list[int]) -> int | None:
        """The answer digest among `items` (queued on, or being sent on, one direction), if any."""
        for item in items:
            if item < 0 and self.tokens[item][0] == "answer":
                return item
        return None

    def _missing(self, agent: int, other_held: np.ndarray, d: int) -> list[int]:
        """Packages `agent` holds that the digest lacks and that are not already queued on d (nor,
        under per_package, being sent on d)."""
        # `a > b` is `a & ~b` on bools in one numpy call; nonzero()[0] is flatnonzero without its
        # Python wrapper (this runs twice per exchange, hundreds of thousands of times)
        want = self.host.held[agent] > other_held
        queued = self.host.queued(d)
        sending = self.host.sending(d)
        if sending:
            queued = queued + sending
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
        self.host.forget_digest(token)
        d = self.host.direction(agent, src)
        if kind == "ask":
            queued = self._answer_in(self.host.queued(d))
            if queued is None and self._answer_in(self.host.sending(d)) is None:
                self._digest(agent, d, "answer", self._missing(agent, other_held, d))
            else:  # an answer still waits on d: it now lists what `agent` holds now (one digest
                if queued is not None:  # queued); one being sent keeps its bytes and contents
                    self._digest_of(agent, queued, "answer")
                missing = self._missing(agent, other_held, d)  # the packages follow it
                if missing:
                    self.host.send(d, missing)
        else:
            missing = self._missing(agent, other_held, d)
            if missing:
                self.host.send(d, missing)
