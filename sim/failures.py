"""Failure processes: agent crashes and recoveries, link outages and partitions, scheduled or random."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config import FailuresConfig
from sim.errors import SimError
from sim.recorder import Event

if TYPE_CHECKING:
    from sim.engine import Engine


def crash(engine: "Engine", agent: int) -> None:
    """The agent dies: learning stops and its flows are cut (merges pause until it recovers)."""
    if not engine.knowledge.live[agent]:
        return
    now = engine.env.now
    engine.catch_up(agent)
    engine.crashed_at[agent] = now
    engine.knowledge.set_alive(agent, False)
    if engine.next_task[agent] < len(engine.plan[agent]):
        engine.unfinished -= 1
    process = engine.learners.pop(agent, None)
    if process is not None and process.is_alive:
        process.interrupt("crash")
    for d in engine.network.out_dirs[agent] + engine.in_dirs[agent]:
        engine.network.set_down(d)
    engine.knowledge.drop_inbox(agent)
    engine.recorder.emit(Event(now, "crashed", agent))


def recover(engine: "Engine", agent: int, keep_bank: bool) -> None:
    """The agent comes back, with or without its bank, and resumes learning."""
    if engine.knowledge.live[agent]:
        return
    now = engine.env.now
    know = engine.knowledge
    if not keep_bank:
        know.wipe(agent, now)
        for d in engine.network.out_dirs[agent]:
            engine.network.queue[d] = []
        know.merge_free[agent] = now
    else:  # merges cut by the crash resume where they stopped
        down = now - engine.crashed_at[agent]
        pending = know.held[agent] & (know.known_at[agent] > engine.crashed_at[agent])
        know.known_at[agent, pending] += down
        know.merge_free[agent] = max(now, know.merge_free[agent] + down)
    engine.knowledge.set_alive(agent, True)
    if engine.next_task[agent] < len(engine.plan[agent]):
        engine.unfinished += 1
        engine.start_learner(agent)
    for d in engine.network.out_dirs[agent] + engine.in_dirs[agent]:
        engine.network.set_up(d)
    engine.last_change = now  # a return is news: the idle clock of push_pull starts again
    engine.protocol.recovered(agent)
    engine.recorder.emit(Event(now, "recovered", agent))


def crash_process(env, engine: "Engine", agent: int, at_s: float, recover_at_s: float | None, keep_bank: bool):
    """One scheduled crash of `agent`, and its recovery if any."""
    yield env.timeout(at_s)
    crash(engine, agent)
    if recover_at_s is not None:
        engine.recoveries_due += 1
        yield env.timeout(recover_at_s - at_s)
        engine.recoveries_due -= 1
        recover(engine, agent, keep_bank)


def random_agent_process(env, engine: "Engine", agent: int, mtbf_s: float, mttr_s: float | None,
                         keep_bank: bool, rng: np.random.Generator, horizon_s: float | None):
    """An agent alternating exponential up and down times until the run goes quiet."""
    while True:
        yield env.timeout(rng.exponential(mtbf_s))
        if engine.quiet() or (horizon_s is not None and env.now > horizon_s):
            return
        crash(engine, agent)
        if mttr_s is None:
            return
        engine.recoveries_due += 1
        yield env.timeout(rng.exponential(mttr_s))
        engine.recoveries_due -= 1
        recover(engine, agent, keep_bank)


def outage_process(env, engine: "Engine", edges: list[tuple[int, int]], start_s: float, end_s: float, label: str):
    """A set of links down during [start_s, end_s) (both directions)."""
    dirs = [engine.network.index[u, v] for a, b in edges for u, v in ((a, b), (b, a))]
    yield env.timeout(start_s)
    for d in dirs:
        engine.network.set_down(d)
    engine.recorder.emit(Event(env.now, "link_down", detail=f"{label} {edges}"))
    engine.recoveries_due += 1  # the cut heals: anti-entropy must not give up before it does
    yield env.timeout(end_s - start_s)
    engine.recoveries_due -= 1
    for d in dirs:
        engine.network.set_up(d)
    engine.last_change = env.now  # a healed cut is news: the idle clock of push_pull starts again
    engine.recorder.emit(Event(env.now, "link_up", detail=f"{label} {edges}"))


def random_link_process(env, engine: "Engine", edge: tuple[int, int], mtbf_s: float, mttr_s: float,
                        rng: np.random.Generator, horizon_s: float | None):
    """One link alternating exponential up and down times until the run goes quiet."""
    dirs = [engine.network.index[edge], engine.network.index[edge[1], edge[0]]]
    while True:
        yield env.timeout(rng.exponential(mtbf_s))
        if engine.quiet() or (horizon_s is not None and env.now > horizon_s):
            return
        for d in dirs:
            engine.network.set_down(d)
        yield env.timeout(rng.exponential(mttr_s))
        for d in dirs:
            engine.network.set_up(d)
        engine.last_change = env.now


def _check_edge(engine: "Engine", edge, field: str) -> tuple[int, int]:
    """An edge named in the config must exist in the graph."""
    u, v = int(edge[0]), int(edge[1])
    if (u, v) not in engine.network.index:
        raise SimError(f"{field}: edge {[u, v]} is not in the graph; name an existing link")
    return u, v


def start_failures(engine: "Engine", config: FailuresConfig) -> None:
    """Start every failure process the config asks for, each with its own child generator."""
    env, n = engine.env, engine.n_agents
    for i, crash in enumerate(config.agents.scheduled):
        if crash.agent >= n:
            raise SimError(f"failures.agents.scheduled[{i}].agent={crash.agent} is not an agent (0..{n - 1})")
        env.process(crash_process(env, engine, crash.agent, crash.at_s, crash.recover_at_s, crash.keep_bank))
    spec = config.agents.random
    if spec is not None:
        if spec.agents is not None:
            bad = [a for a in spec.agents if not 0 <= a < n]
            if bad:
                raise SimError(f"failures.agents.random.agents has non-agents {bad}; use 0..{n - 1}")
            who = sorted(spec.agents)
        else:
            pick = engine.child_rng("fail-pick")
            who = sorted(pick.choice(n, size=int(round(spec.fraction * n)), replace=False).tolist())
        for agent in who:
            rng = engine.child_rng("fail-agent", agent)
            env.process(random_agent_process(env, engine, agent, spec.mtbf_s, spec.mttr_s, spec.keep_bank,
                                             rng, config.horizon_s))
    for i, outage in enumerate(config.links.scheduled):
        edge = _check_edge(engine, outage.edge, f"failures.links.scheduled[{i}].edge")
        env.process(outage_process(env, engine, [edge], outage.start_s, outage.end_s, "outage"))
    if config.links.random is not None:
        for u, v in sorted(engine.graph.edges()):
            rng = engine.child_rng("fail-link", u * n + v)
            env.process(random_link_process(env, engine, (u, v), config.links.random.mtbf_s,
                                            config.links.random.mttr_s, rng, config.horizon_s))
    for i, part in enumerate(config.partitions):
        edges = [_check_edge(engine, e, f"failures.partitions[{i}].edges") for e in part.edges]
        env.process(outage_process(env, engine, edges, part.start_s, part.end_s, "partition"))
