"""Co-simulation on the SimPy engine (sim.teacher): a task is asked for when its agent starts it, with
the packages the agent has merged by then in simulated time, whatever order the calls come in."""

import networkx as nx
import numpy as np
import pytest

from sim.errors import SimError
from sim.simulate import simulate
from sim.teacher import WHY_SIMPY, Lesson
from sim.workload import TaskWork, Workload

RATE = 1e9  # MACs/s: a lesson of k GMACs takes k seconds
CHEAP, DEAR = 1_000_000_000, 4_000_000_000  # task 1 with task 0 in the bank, and without


class Fake:
    """Task 1 is cheap when task 0 is in the bank; every other task costs its workload MACs."""

    def __init__(self, workload: Workload) -> None:
        self.macs = {t.task_id: t.macs for t in workload.tasks}
        self.calls: list[tuple[int, int, frozenset]] = []

    def __call__(self, agent: int, task: int, bank: frozenset) -> Lesson:
        self.calls.append((agent, task, bank))
        macs = (CHEAP if 0 in bank else DEAR) if task == 1 else self.macs[task]
        return Lesson(macs=macs, wall_s=0.0, key=f"{task}:{sorted(bank)}")


def line(plan_of_1: list[int]) -> Workload:
    """Agent 0 learns task 0 (1 s); agent 1 learns `plan_of_1` in order (task 2 is a 5 s filler)."""
    costs = {0: 1_000_000_000, 1: DEAR, 2: 5_000_000_000}
    tasks = [TaskWork(0, 0, costs[0], 1000, 0)] + [TaskWork(t, 1, costs[t], 1000, 0) for t in plan_of_1]
    return Workload(tasks=sorted(tasks, key=lambda t: t.task_id) if plan_of_1 == [1, 2] else tasks)


def run(workload: Workload, teacher, **kw):
    graph = nx.path_graph(2)
    nx.set_edge_attributes(graph, 1e6, "bandwidth")
    nx.set_edge_attributes(graph, 0.0, "latency")
    return simulate(graph, workload, rates=[RATE, RATE], teacher=teacher, **kw)


def test_a_package_merged_before_the_learner_starts_is_in_its_bank():
    work = line([2, 1])  # task 0 arrives at ~1.001 s; agent 1 starts task 1 at 5 s
    fake = Fake(work)
    result = run(work, fake)
    asked = {(a, t): bank for a, t, bank in fake.calls}
    assert asked[(1, 1)] == frozenset({0, 2})
    # task 1 starts at 5 s and takes CHEAP / RATE = 1 s
    assert result.known_at[1, 1] == pytest.approx(5.0 + CHEAP / RATE)
    assert result.metrics.teacher_macs == 1e9 + 5e9 + CHEAP
    assert [(t, a, task) for t, a, task, _ in result.lessons] == [(0.0, 0, 0), (0.0, 1, 2), (5.0, 1, 1)]


def test_a_package_that_arrives_after_the_learner_starts_is_not_reused():
    work = line([1, 2])  # agent 1 starts task 1 at t = 0; task 0 is learned (and sent) only at 1 s
    fake = Fake(work)
    result = run(work, fake)
    # the teacher heard of task 0 first (agent 0's call, same instant), yet agent 1's bank is empty
    assert fake.calls[0][:2] == (0, 0) and fake.calls[1] == (1, 1, frozenset())
    assert result.known_at[1, 1] == pytest.approx(DEAR / RATE)
    assert result.known_at[1, 0] < DEAR / RATE  # it arrived while task 1 was being learned
    assert result.metrics.teacher_macs == 1e9 + DEAR + 5e9
    # the filler, started at 4 s, sees both
    assert fake.calls[2] == (1, 2, frozenset({0, 1}))


def test_co_simulated_runs_are_deterministic():
    work = line([2, 1])
    a, b = run(work, Fake(work)), run(work, Fake(work))
    assert a.lessons == b.lessons
    np.testing.assert_array_equal(a.known_at, b.known_at)
    assert a.metrics.to_dict() == b.metrics.to_dict()


def test_a_teacher_forces_the_simpy_engine_and_compiled_is_refused():
    work = line([2, 1])
    assert run(work, Fake(work), engine="auto").engine == "simpy"
    with pytest.raises(SimError, match="knowledge reuse"):
        run(work, Fake(work), engine="compiled")
    assert "SimPy" in WHY_SIMPY


def test_without_a_teacher_the_replayed_costs_are_charged():
    work = line([1, 2])
    result = run(work, None)
    assert result.lessons == []
    assert result.known_at[1, 1] == pytest.approx(DEAR / RATE)
    assert result.metrics.teacher_macs == 1e9 + DEAR + 5e9
