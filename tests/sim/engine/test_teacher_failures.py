"""Co-simulation with failures (sim.teacher): a crash interrupts a lesson, the recovered agent asks
again with the bank it holds then; after a wipe that bank holds nothing merged before the wipe
(only what is learned or received again), and runs with random crashes are deterministic."""

import networkx as nx
import numpy as np
import pytest

from sim.banks import banks_at
from sim.simulate import simulate
from sim.teacher import Lesson
from sim.workload import TaskWork, Workload

RATE = 1e9  # MACs/s: a lesson of k GMACs takes k seconds
G = 1_000_000_000
CHEAP, DEAR = G, 4 * G  # task 1 with task 0 in the bank, and without


class Fake:
    """Task 1 is cheap when task 0 is in the bank; any other task costs its workload MACs, less
    0.1 GMAC per banked package (so that random runs depend on every bank they see)."""

    def __init__(self, workload: Workload, discount: int = 0) -> None:
        self.macs = {t.task_id: t.macs for t in workload.tasks}
        self.discount = discount
        self.calls: list[tuple[int, int, frozenset]] = []

    def __call__(self, agent: int, task: int, bank: frozenset) -> Lesson:
        self.calls.append((agent, task, bank))
        macs = (CHEAP if 0 in bank else DEAR) if task == 1 else self.macs[task] - self.discount * len(bank)
        return Lesson(macs=macs, wall_s=0.0, key=f"{task}:{sorted(bank)}")


# Agent 0 learns task 0 (0..1 s; at agent 1 by 1.001 s). Agent 1 learns task 2 (0..1 s), task 3
# (1..4 s) and task 1. It crashes at 2.5 s, inside task 3, and recovers at 3 s: task 3 is asked
# for again at 3 s (3..6 s), then task 1 at 6 s.
WORK = Workload(tasks=[TaskWork(0, 0, G, 1000, 0), TaskWork(2, 1, G, 1000, 0), TaskWork(3, 1, 3 * G, 1000, 0),
                       TaskWork(1, 1, DEAR, 1000, 0)])


def run(keep_bank: bool, gossip: dict | None = None):
    graph = nx.path_graph(2)
    nx.set_edge_attributes(graph, 1e6, "bandwidth")  # 1000 bytes: 1 ms a package
    nx.set_edge_attributes(graph, 0.0, "latency")
    fake = Fake(WORK)
    crash = {"agent": 1, "at_s": 2.5, "recover_at_s": 3.0, "keep_bank": keep_bank}
    result = simulate(graph, WORK, rates=[RATE, RATE], teacher=fake, gossip=gossip,
                      failures={"agents": {"scheduled": [crash]}})
    return fake, result


def test_a_crash_without_wipe_asks_again_with_the_bank_kept():
    fake, result = run(keep_bank=True)
    assert fake.calls == [(0, 0, frozenset()), (1, 2, frozenset()), (1, 3, frozenset({2})),
                          (1, 3, frozenset({0, 2})), (1, 1, frozenset({0, 2, 3}))]
    assert [float(t) for t, *_ in result.lessons] == [0.0, 0.0, 1.0, 3.0, 6.0]
    assert result.removed == []
    assert result.known_at[1, 1] == pytest.approx(6.0 + CHEAP / RATE)  # task 0 kept: the cheap lesson
    assert result.metrics.teacher_macs == G + G + 3 * G + CHEAP  # the interrupted lesson is not charged


def test_after_a_wipe_nothing_merged_before_it_is_reused():
    fake, result = run(keep_bank=False)  # flood: nothing is sent again, so task 0 stays gone
    assert fake.calls[3:] == [(1, 3, frozenset()), (1, 1, frozenset({3}))]
    assert sorted((float(t), a, task) for t, a, task, _ in result.removed) == [(3.0, 1, 0), (3.0, 1, 2)]
    assert result.known_at[1, 1] == pytest.approx(6.0 + DEAR / RATE)  # task 0 wiped: the dear lesson
    assert result.metrics.teacher_macs == G + G + 3 * G + DEAR


def test_what_is_received_again_after_a_wipe_is_reused():
    # push_pull repairs the wiped bank from agent 0 (which holds 0 and 2) before task 1 starts at 6 s
    fake, result = run(keep_bank=False, gossip={"protocol": "push_pull", "period_s": 0.5})
    (_, _, again), (_, _, later) = fake.calls[3:]
    assert again == frozenset()  # asked at the recovery itself: everything merged before is gone
    assert later == frozenset({0, 2, 3})
    wipe = 3.0
    assert all(result.known_at[1, t] >= wipe for t in later)  # each merged anew after the wipe
    assert result.known_at[1, 1] == pytest.approx(6.0 + CHEAP / RATE)


@pytest.mark.parametrize("keep_bank", [True, False])
def test_random_crashes_in_a_co_simulated_run_are_deterministic_and_ask_with_the_recorded_bank(keep_bank):
    n, per_agent = 6, 3
    rng = np.random.default_rng(7)
    tasks = [TaskWork(a * per_agent + k, a, int(rng.integers(2, 6)) * G, 20_000, 0)
             for a in range(n) for k in range(per_agent)]
    work = Workload(tasks=tasks)
    graph = nx.cycle_graph(n)
    nx.set_edge_attributes(graph, 1e5, "bandwidth")  # 0.2 s a package per link
    nx.set_edge_attributes(graph, 0.001, "latency")
    failures = {"agents": {"random": {"mtbf_s": 4.0, "mttr_s": 1.0, "keep_bank": keep_bank}}, "horizon_s": 40.0}

    def once():
        fake = Fake(work, discount=G // 10)
        result = simulate(graph, work, rates=[RATE] * n, teacher=fake, failures=failures, seed=11,
                          gossip={"protocol": "push_pull", "period_s": 0.3})
        return fake, result

    (fa, a), (fb, b) = once(), once()
    assert fa.calls == fb.calls and a.lessons == b.lessons
    np.testing.assert_array_equal(a.known_at, b.known_at)
    assert a.removed == b.removed and a.metrics.to_dict() == b.metrics.to_dict()
    crashes = [e for e in a.recorder.incidents if e.kind == "crashed"]
    assert crashes, "the draw has no crash: pick another seed"
    assert bool(a.removed) == (not keep_bank)
    restarted = len(fa.calls) - len(tasks)  # lessons asked again after a crash interrupted them
    assert restarted >= 1
    # every lesson saw exactly the bank the run's record gives for that agent at that moment:
    # merged at or before it and not wiped since (sim.banks)
    for (t, agent, task, _), (who, what, bank) in zip(a.lessons, fa.calls):
        assert (who, what) == (agent, task)
        assert bank == banks_at(a, [float(t)], [agent])[0][agent], (t, agent, task)
    # and after a wipe, a package merged before it is in a later bank only if merged again since
    merges: dict[tuple[int, int], list[float]] = {}
    for _, who, task, banked in a.removed:
        merges.setdefault((who, task), []).append(banked)
    for who, task in zip(*np.nonzero(np.isfinite(a.known_at))):
        merges.setdefault((int(who), int(task)), []).append(float(a.known_at[who, task]))
    checked = 0
    for (t, agent, _, _), (_, _, bank) in zip(a.lessons, fa.calls):
        for wiped_at, who, task, banked in a.removed:
            if who == agent and banked < wiped_at <= t and task in bank:
                assert any(wiped_at <= m <= t for m in merges[(agent, task)]), (t, agent, task)
                checked += 1
    assert (checked > 0) == (not keep_bank)  # the draw does reuse wiped packages merged again
