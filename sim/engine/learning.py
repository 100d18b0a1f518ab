"""An agent's learning process: its plan's tasks in order, each taking its compute time.

A crash ends the process and a recovery starts a new one at the task the crash interrupted; after a
recovery with a wiped bank and `failures.relearn_after_wipe`, at the plan's first task: the tasks it
had finished are learned again (their compute paid again), except one that its neighbours gave back
before the agent came to it (it holds the package already: nothing to relearn).

Co-simulation (knowledge reuse): with a teacher (sim.teacher), a task's time is not replayed but
asked for when the agent starts it, from the packages it has merged by then (`lesson`); what
arrives while it learns is used by its next task, not this one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from sim.engine.events import Delay
from sim.ranks import LEARNED, rank


def learner(env: simpy.Environment, engine: Any, agent: int):
    """The process of `agent` on `engine` (the run's sim.engine.core.Engine)."""
    plan = engine.plan[agent]
    while engine.next_task[agent] < len(plan):
        task = plan[engine.next_task[agent]]
        if engine.next_task[agent] < engine.relearn_until[agent] and _given_back(engine, agent, task.task_id):
            engine.advance(agent)
            continue
        try:
            seconds, macs = (engine.duration(agent, task), None) if engine.teacher is None else lesson(engine, agent, task)
            yield Delay(env, seconds, rank(LEARNED, agent, engine.n_agents))
        except simpy.Interrupt:
            return
        engine.learned(agent, task, macs)


def lesson(engine: Any, agent: int, task: Any) -> tuple[float, int]:
    """Co-simulation (sim.teacher): ask the engine's teacher for `task` with the packages `agent` has
    merged by now (arrivals taken in first); log the lesson; return its simulated seconds and MACs."""
    engine.catch_up(agent)
    now = engine.env.now
    bank = frozenset(np.flatnonzero(engine.knowledge.known_at[agent] <= now).tolist())
    taught = engine.teacher(agent, task.task_id, bank)
    engine.lessons.append((now, agent, task.task_id, taught.key))
    seconds = taught.wall_s if engine.timing == "wall" else taught.macs / engine.rates[agent]
    return seconds, int(taught.macs)


def _given_back(engine: Any, agent: int, task: int) -> bool:
    """The agent holds the task it is about to relearn (taking in what has arrived first)."""
    engine.catch_up(agent)
    return bool(engine.knowledge.held[agent, task])
