"""The learner callback of a co-simulated run (knowledge reuse, issue 15): the SimPy engine asks it
for a task at the simulated moment an agent starts the task, with the agent's bank at that moment,
and charges the compute the answer reports. Plain data both ways: the engine never sees a model.

sim.experiment.cosim implements it with agents/ (real learning, cached); tests pass small fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Why the compiled loops step aside for a co-simulated run (sim.compiled.runner.pick, the checks).
WHY_SIMPY = ("knowledge reuse (learner.reuse.enabled) makes a task's cost depend on the bank its agent "
             "holds when it starts the task, which only the SimPy engine can ask the learner for; the "
             "compiled loops replay costs fixed before the run")


@dataclass(frozen=True)
class Lesson:
    """What learning one task cost at the moment it was asked for, and which package it made."""

    macs: int  # teacher MACs of this learning (simulated time = macs / the agent's rate)
    wall_s: float  # its measured wall time (simulated time under timing "wall")
    key: str  # the learned package's identity, opaque to the engine (the caller's cache key)


class Teacher(Protocol):
    """Learns `task` for `agent` from the tasks in its bank (merged packages) at that moment."""

    def __call__(self, agent: int, task: int, bank: frozenset[int]) -> Lesson: ...
