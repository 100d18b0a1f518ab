"""Failure processes: agent crashes and recoveries, link outages and partitions, scheduled or random."""

from __future__ import annotations

import numpy as np

from sim.config import FailuresConfig
from sim.engine.core import Engine
from sim.errors import SimError
from sim.recorder import Event


def crash_process(env, engine: Engine, agent: int, at_s: float, recover_at_s: float | None, keep_bank: bool):
    """One scheduled crash of `agent`, and its recovery if any."""
    yield env.timeout(at_s)
    engine.crash(agent, recovers=recover_at_s is not None, keep_bank=keep_bank)
    if recover_at_s is not None:
        yield env.timeout(recover_at_s - at_s)
        engine.recover(agent, keep_bank)


def random_agent_process(env, engine: Engine, agent: int, mtbf_s: float, mttr_s: float | None,
                         keep_bank: bool, rng: np.random.Generator, horizon_s: float | None):
    """An agent alternating exponential up and down times until the run settles."""
    while True:
        yield env.timeout(rng.exponential(mtbf_s))
        if engine.settled(awaiting_recoveries=False) or (horizon_s is not None and env.now > horizon_s):
            return
        engine.crash(agent, recovers=mttr_s is not None, keep_bank=keep_bank)
        if mttr_s is None:
            return
        yield env.timeout(rng.exponential(mttr_s))
        engine.recover(agent, keep_bank)


def outage_process(env, engine: Engine, edges: list[tuple[int, int]], start_s: float, end_s: float, cause: str):
    """A set of links down during [start_s, end_s) (both directions); `cause`: scheduled or partition."""
    dirs = [engine.direction(u, v) for a, b in edges for u, v in ((a, b), (b, a))]
    named = _named(edges)
    yield env.timeout(start_s)
    engine.links_down(dirs, heals=True)
    engine.recorder.emit(Event(env.now, "link_down", detail=f"{cause} {list(named)}", edges=named, cause=cause))
    yield env.timeout(end_s - start_s)
    engine.links_up(dirs, healed=True)
    engine.recorder.emit(Event(env.now, "link_up", detail=f"{cause} {list(named)}", edges=named, cause=cause))


def _named(edges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Edges as events name them: each (u, v) with u < v, in the config's order."""
    return tuple((min(u, v), max(u, v)) for u, v in edges)


def random_link_process(env, engine: Engine, edge: tuple[int, int], mtbf_s: float, mttr_s: float,
                        rng: np.random.Generator, horizon_s: float | None):
    """One link alternating exponential up and down times until the run settles."""
    dirs = [engine.direction(*edge), engine.direction(edge[1], edge[0])]
    named = _named([edge])
    detail = f"random {list(named)}"
    while True:
        yield env.timeout(rng.exponential(mtbf_s))
        if engine.settled(awaiting_recoveries=False) or (horizon_s is not None and env.now > horizon_s):
            return
        engine.links_down(dirs)
        engine.recorder.emit(Event(env.now, "link_down", detail=detail, edges=named, cause="random"))
        yield env.timeout(rng.exponential(mttr_s))
        engine.links_up(dirs)
        engine.recorder.emit(Event(env.now, "link_up", detail=detail, edges=named, cause="random"))


def _check_edge(engine: Engine, edge, field: str) -> tuple[int, int]:
    """An edge named in the config must exist in the graph."""
    u, v = int(edge[0]), int(edge[1])
    if not engine.graph.has_edge(u, v):
        raise SimError(f"{field}: edge {[u, v]} is not in the graph; name an existing link")
    return u, v


def start_failures(engine: Engine, config: FailuresConfig) -> None:
    """Start every failure process the config asks for, each with its own child generator."""
    env, n = engine.env, engine.n_agents
    engine.relearn_after_wipe = config.relearn_after_wipe
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
        env.process(outage_process(env, engine, [edge], outage.start_s, outage.end_s, "scheduled"))
    if config.links.random is not None:
        for u, v in sorted(engine.graph.edges()):
            rng = engine.child_rng("fail-link", u * n + v)
            env.process(random_link_process(env, engine, (u, v), config.links.random.mtbf_s,
                                            config.links.random.mttr_s, rng, config.horizon_s))
    for i, part in enumerate(config.partitions):
        edges = [_check_edge(engine, e, f"failures.partitions[{i}].edges") for e in part.edges]
        env.process(outage_process(env, engine, edges, part.start_s, part.end_s, "partition"))
