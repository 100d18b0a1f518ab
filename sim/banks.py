"""Who held what, and who was up, at given simulated moments: read back from a finished run's record
(the merge times of held packages, the logged bank wipes, the crash and recovery incidents)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Sequence

import numpy as np

from sim.simulate import SimResult


def banks_at(result: SimResult, times: Sequence[float], agents: Sequence[int]) -> list[dict[int, frozenset[int]]]:
    """Each agent's bank at each time, one {agent: task ids} per time: a package counts from the
    moment it was merged (or learned) until a wipe removed it, so at t it is held iff
    merged <= t < removed. A wipe logged before its entry was merged removes nothing."""
    wanted = set(agents)
    spans: dict[int, list[tuple[float, float, int]]] = {a: [] for a in agents}
    held_a, held_t = np.nonzero(np.isfinite(result.known_at))
    for a, t in zip(held_a.tolist(), held_t.tolist()):
        if a in wanted:
            spans[a].append((float(result.known_at[a, t]), np.inf, t))
    for removed, agent, task, banked in result.removed:
        if agent in wanted and banked < removed:
            spans[agent].append((float(banked), float(removed), int(task)))
    return [{a: frozenset(task for start, end, task in spans[a] if start <= now < end) for a in agents}
            for now in times]


def alive_at(result: SimResult, times: Sequence[float], agents: Sequence[int]) -> list[dict[int, bool]]:
    """Whether each agent is up at each time, from the crash and recovery incidents: down from its
    crash (inclusive) until its recovery (exclusive)."""
    flips: dict[int, list[float]] = {a: [] for a in agents}
    for event in result.recorder.incidents:
        if event.kind in ("crashed", "recovered") and event.agent in flips:
            flips[event.agent].append(float(event.time))
    # Crash and recovery alternate per agent (a crash of a dead agent and a recovery of a live one
    # log nothing), so an odd number of flips at or before t means the agent is down at t.
    return [{a: bisect_right(flips[a], now) % 2 == 0 for a in agents} for now in times]
