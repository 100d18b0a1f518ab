"""Ranks of simultaneous events, the one rule both engines follow (docs/architecture.md).

SimPy pops its heap entry (time, priority, scheduling order), so events of one instant would
otherwise run in the order they happened to be scheduled. Flow ends come first (URGENT), then
SimPy's NORMAL events (failures, resends), then the engine's own, by kind and agent: wake-ups for
what lands (WAKE), learning done (LEARNED), gossip timers (TIMER). The compiled loops order their
events by the same ranks. SimPy's two priorities are spelled out here (sim.engine.events checks
them) so that the compiled loops need nothing of SimPy.
"""

from __future__ import annotations

URGENT, NORMAL = 0, 1  # simpy.events.URGENT, simpy.events.NORMAL
WAKE, LEARNED, TIMER = range(3)


def rank(kind: int, agent: int, n_agents: int) -> int:
    """The priority of an engine event of `kind` for `agent` (after URGENT and NORMAL)."""
    return NORMAL + 1 + kind * n_agents + agent
