"""failures.relearn_after_wipe: an agent back with a wiped bank relearns its own finished tasks
(or not), and why each lost task is lost. Hand counts on a 3-agent line 0-1-2, links of 1e4 B/s and
10 ms (a 1,000 B package takes d = 0.01 + 1000 / 1e4 = 0.11 s per hop), agents at 10 MACs/s."""

import networkx as nx
import pytest

from sim.config import FailuresConfig, FloodConfig, PushPullConfig
from sim.workload import TaskWork, Workload, synthetic_workload

HOP = 0.01 + 1000 / 1e4  # seconds for one package over one link


def _line_work(agent0_macs=(30,)) -> Workload:
    """Agent 0 learns `agent0_macs` (tasks 0, 3, ...), agents 1 and 2 one 10-MAC task each (tasks 1, 2)."""
    tasks = [TaskWork(1, 1, 10, 1000, 0), TaskWork(2, 2, 10, 1000, 0)]
    ids = [0] + list(range(3, 2 + len(agent0_macs)))
    tasks += [TaskWork(tid, 0, macs, 1000, 0) for tid, macs in zip(ids, agent0_macs)]
    return Workload(sorted(tasks, key=lambda t: t.task_id))


def _wipe(relearn: bool, at_s: float, recover_at_s: float) -> dict:
    """Agent 0 crashes at `at_s` and comes back at `recover_at_s` with an empty bank."""
    return {"agents": {"scheduled": [{"agent": 0, "at_s": at_s, "recover_at_s": recover_at_s, "keep_bank": False}]},
            "relearn_after_wipe": relearn}


@pytest.mark.parametrize("gossip", [FloodConfig(), PushPullConfig(period_s=0.3)], ids=["flood", "push_pull"])
def test_without_relearning_a_wiped_task_is_lost_with_every_agent_alive(sim_run, linked, gossip):
    # agent 0 learns task 0 at 3.0 s and crashes at 3.05 s, before the package reaches agent 1
    # (at 3.11 s): nobody else ever holds it, and the wipe at 4.0 s removes it
    res = sim_run(linked(nx.path_graph(3)), _line_work(), gossip=gossip, failures=_wipe(False, 3.05, 4.0),
                  engine="simpy")
    m = res.metrics
    assert m.alive == [True, True, True]
    assert m.tasks_lost == [0]
    assert m.tasks_lost_by_cause == {"wiped": [0], "holders_died": [], "never_learned": []}
    assert m.teacher_macs == 30 + 10 + 10  # nothing learned twice


def test_relearning_after_a_wipe_redoes_the_task_from_the_recovery_and_floods_it(sim_run, linked):
    res = sim_run(linked(nx.path_graph(3)), _line_work(), gossip=FloodConfig(), failures=_wipe(True, 3.05, 4.0),
                  engine="simpy")
    m = res.metrics
    assert m.tasks_lost == [] and m.tasks_lost_by_cause == {"wiped": [], "holders_died": [], "never_learned": []}
    # relearned from the recovery: 4.0 s + 30 MACs / 10 MACs/s; then one hop and two hops on
    assert res.known_at[0, 0] == pytest.approx(4.0 + 3.0)
    assert res.known_at[1, 0] == pytest.approx(7.0 + HOP) and res.known_at[2, 0] == pytest.approx(7.0 + 2 * HOP)
    assert m.teacher_macs == 30 + 10 + 10 + 30  # task 0's compute paid again


def test_relearned_task_reaches_everyone_and_anti_entropy_refills_the_rest(sim_run, linked):
    res = sim_run(linked(nx.path_graph(3)), _line_work(), gossip=PushPullConfig(period_s=0.3),
                  failures=_wipe(True, 3.05, 4.0), engine="simpy")
    assert res.held.all() and res.metrics.complete and res.metrics.tasks_lost == []
    assert res.known_at[0, 0] == pytest.approx(7.0)
    assert res.known_at[1:, 0].min() > 7.0  # the others got it only from the relearning


def test_a_relearned_task_the_neighbours_give_back_first_is_not_learned_again(sim_run, linked):
    # agent 0 learns tasks 0 and 3 (1 s each) by 2.0 s; both reach agents 1 and 2; it crashes at
    # 3.0 s and is back at 4.0 s wiped. It relearns task 0 (4.0-5.0 s). Under flood nothing comes
    # back, so it relearns task 3 too (5.0-6.0 s); under push_pull its neighbours give task 3 back
    # well before 5.0 s (one exchange every 0.3 s), so it skips it.
    flood = sim_run(linked(nx.path_graph(3)), _line_work((10, 10)), gossip=FloodConfig(),
                    failures=_wipe(True, 3.0, 4.0), engine="simpy")
    assert flood.known_at[0, 0] == pytest.approx(5.0) and flood.known_at[0, 3] == pytest.approx(6.0)
    assert flood.metrics.teacher_macs == 4 * 10 + 2 * 10
    pp = sim_run(linked(nx.path_graph(3)), _line_work((10, 10)), gossip=PushPullConfig(period_s=0.3),
                 failures=_wipe(True, 3.0, 4.0), engine="simpy")
    assert pp.known_at[0, 3] < 5.0 and pp.held.all()
    assert pp.metrics.teacher_macs == 4 * 10 + 10  # task 0 again, task 3 not


def test_a_task_whose_holders_all_died_and_one_never_learned_are_told_apart(sim_run, linked):
    # agent 0 learns task 0 at 3.0 s and dies at 3.05 s (its package cut on the way); agent 2
    # dies at 0.5 s, before finishing task 2
    failures = {"agents": {"scheduled": [{"agent": 0, "at_s": 3.05}, {"agent": 2, "at_s": 0.5}]},
                "relearn_after_wipe": True}
    res = sim_run(linked(nx.path_graph(3)), _line_work(), gossip=FloodConfig(), failures=failures, engine="simpy")
    m = res.metrics
    assert m.alive == [False, True, False]
    assert m.tasks_lost == [0, 2]
    assert m.tasks_lost_by_cause == {"wiped": [], "holders_died": [0], "never_learned": [2]}


def test_relearning_changes_nothing_when_banks_are_kept(sim_run, linked):
    kept = {"agents": {"scheduled": [{"agent": 0, "at_s": 3.05, "recover_at_s": 4.0, "keep_bank": True}]}}
    off = sim_run(linked(nx.path_graph(3)), _line_work(), failures=kept, engine="simpy")
    on = sim_run(linked(nx.path_graph(3)), _line_work(), failures={**kept, "relearn_after_wipe": True}, engine="simpy")
    assert (off.known_at == on.known_at).all() and off.metrics.teacher_macs == on.metrics.teacher_macs


def test_random_crashes_stop_once_only_relearning_is_left(sim_run, linked):
    """The random failure processes crash an agent only while something can still spread: some agent
    has tasks it never learned, or (flood has no timers) a transfer is under way. Relearning that
    their own wipes cause does not count, or they would churn on (with it counted, 9 crashes
    of this run came while only relearning was left)."""
    events = []
    failures = {"agents": {"random": {"mtbf_s": 1.0, "mttr_s": 4.0, "fraction": 1.0, "keep_bank": False}},
                "horizon_s": 300.0, "relearn_after_wipe": True}
    res = sim_run(linked(nx.cycle_graph(12)), synthetic_workload(12, 1, macs=10, nbytes=1000, seed=1),
                  gossip=FloodConfig(), failures=failures, observer=events.append)
    first_learned: dict[int, float] = {}
    for e in events:
        if e.kind == "learned":
            first_learned.setdefault(e.agent, e.time)
    new_work_until = max(first_learned.values())
    spans = [(t["start"], t["end"]) for t in res.recorder.transfers()]
    crashes = [e.time for e in events if e.kind == "crashed"]
    assert crashes and sum(e.kind == "learned" for e in events) > 12  # some tasks were relearned
    assert [c for c in crashes if c > new_work_until and not any(s <= c <= e for s, e in spans)] == []
    assert res.metrics.tasks_lost == []


def test_random_wipes_with_relearning_need_a_horizon():
    churn = {"random": {"mtbf_s": 1.0, "mttr_s": 4.0, "keep_bank": False}}
    with pytest.raises(ValueError, match="horizon_s"):
        FailuresConfig(agents=churn, relearn_after_wipe=True)
    FailuresConfig(agents=churn, relearn_after_wipe=True, horizon_s=100.0)  # with one: accepted
    FailuresConfig(agents=churn)  # without relearning, wiped tasks die out: no horizon needed
    FailuresConfig(agents={"random": {"mtbf_s": 1.0, "mttr_s": 4.0}}, relearn_after_wipe=True)  # banks kept
