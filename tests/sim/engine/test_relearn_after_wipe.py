"""failures.relearn_after_wipe: an agent back with a wiped bank relearns its own finished tasks
(or not), and why each lost task is lost. Hand counts on a 3-agent line 0-1-2, links of 1e4 B/s and
10 ms (a 1,000 B package takes d = 0.01 + 1000 / 1e4 = 0.11 s per hop), agents at 10 MACs/s."""

import networkx as nx
import pytest

from sim.config import FloodConfig, PushPullConfig
from sim.workload import TaskWork, Workload

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
