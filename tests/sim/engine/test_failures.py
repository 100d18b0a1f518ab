"""Crashes, recoveries, partitions and random outages: survivors still converge; lost tasks are named."""

import networkx as nx
import numpy as np
import pytest

from sim.config import BroadcastConfig, FailuresConfig, FloodConfig, NetworkConfig, PushPullConfig
from sim.simulate import simulate
from sim.errors import SimError
from sim.workload import synthetic_workload


@pytest.fixture(scope="module")
def run(sim_run):
    """`n_tasks` tasks of `macs` MACs and 1,000 B per agent, agents at 10 MACs/s, seed 5."""

    def run(graph, failures, gossip=None, macs=10, n_tasks=1, observer=None):
        work = synthetic_workload(graph.number_of_nodes(), n_tasks, macs=macs, nbytes=1000)
        return sim_run(graph, work, gossip=gossip, failures=failures, seed=5, observer=observer)

    return run


def test_an_agent_dead_before_learning_loses_its_task_and_others_converge(run, linked):
    res = run(linked(nx.cycle_graph(6)), {"agents": {"scheduled": [{"agent": 2, "at_s": 0.5}]}})
    m = res.metrics
    assert m.tasks_lost == [2]
    assert m.alive == [True, True, False, True, True, True]
    assert m.complete and m.coverage_final == pytest.approx(5 / 6)
    assert not res.held[2].any() or res.known_at[2].max() <= 0.5


def test_crash_and_recovery_with_bank_kept_converges(run, linked):
    failures = {"agents": {"scheduled": [{"agent": 1, "at_s": 0.5, "recover_at_s": 3.0}]}}
    events = []
    res = run(linked(nx.cycle_graph(5)), failures, observer=events.append)
    assert res.metrics.complete and res.held.all()
    kinds = [e.kind for e in events if e.agent == 1]
    assert "crashed" in kinds and "recovered" in kinds
    assert res.known_at[1, 1] >= 3.0 + 1.0  # relearned from scratch after recovery


def test_a_wiped_bank_is_refilled_by_anti_entropy(run, linked):
    failures = {"agents": {"scheduled": [{"agent": 0, "at_s": 2.0, "recover_at_s": 3.0, "keep_bank": False}]}}
    res = run(linked(nx.cycle_graph(5)), failures, gossip=PushPullConfig(period_s=0.3))
    assert res.metrics.complete and res.held.all()
    removed = [c for c in res.bank_changes() if c[3] == -1]
    assert removed and all(c[0] == 3.0 and c[1] == 0 for c in removed)


def test_a_partition_delays_but_does_not_stop_flooding(run, linked):
    parts = {"partitions": [{"edges": [[1, 2]], "start_s": 0.0, "end_s": 5.0}]}
    res = run(linked(nx.path_graph(4)), parts)
    assert res.metrics.complete
    assert res.known_at[2, 0] > 5.0 and res.known_at[1, 3] > 5.0


def test_random_link_failures_end_and_flood_converges(run, linked):
    failures = {"links": {"random": {"mtbf_s": 0.5, "mttr_s": 0.2}}}
    res = run(linked(nx.cycle_graph(8), bw=2e3), failures)
    assert res.metrics.complete
    m = res.metrics
    assert m.bytes_sent == pytest.approx(m.bytes_delivered + m.bytes_lost)


def test_random_agent_failures_with_repair_converge_under_push_pull(run, linked):
    failures = {"agents": {"random": {"mtbf_s": 3.0, "mttr_s": 0.5, "fraction": 0.5}}, "horizon_s": 20.0}
    res = run(linked(nx.cycle_graph(8)), failures, gossip=PushPullConfig(period_s=0.2))
    assert res.metrics.complete and res.metrics.coverage_final == 1.0


def test_failures_naming_missing_agents_or_edges_are_refused(run, linked):
    with pytest.raises(SimError, match="agent=9"):
        run(linked(nx.cycle_graph(4)), {"agents": {"scheduled": [{"agent": 9, "at_s": 1}]}})
    with pytest.raises(SimError, match=r"edge \[0, 2\]"):
        run(linked(nx.cycle_graph(4)), {"links": {"scheduled": [{"edge": [0, 2], "start_s": 0, "end_s": 1}]}})


def test_push_pull_waits_for_a_partition_longer_than_its_idle_rounds_to_heal(run, linked):
    # idle stop after 5 x 0.2 s = 1 s without news; the partition lasts 8 s and must not end the run
    parts = {"partitions": [{"edges": [[1, 2]], "start_s": 0.0, "end_s": 8.0}]}
    res = run(linked(nx.path_graph(4)), parts, gossip=PushPullConfig(period_s=0.2, idle_rounds=5))
    assert res.metrics.complete and res.held.all()
    assert res.known_at[2, 0] > 8.0 and res.known_at[1, 3] > 8.0


def test_a_resend_due_while_its_sender_is_down_waits_for_the_recovery():
    """Found by the property test: agent 2's package to agent 0 is lost at 2.76 s (with the uplink
    cap its bytes flow after the latency, CM02), its resend comes due at 2.86 s while agent 2 is
    down (2.8 to 4.0 s, bank kept). The resend must wait in agent
    2's queue like the packages its crash cut, not be dropped (broadcast has no relays to cover)."""
    n, seed = 6, 21
    graph = nx.complete_graph(n)
    rng = np.random.default_rng(seed)
    for u, v in graph.edges:
        graph.edges[u, v].update(bandwidth=float(rng.uniform(500, 5000)), latency=float(rng.uniform(0, 0.05)),
                                 loss=0.1 if (u, v) == (0, 2) else 0.0)
    work = synthetic_workload(n, 2, macs=5, nbytes=500, student_macs=1, seed=seed, jitter=0.5)
    crash = {"agent": 2, "at_s": 2.8, "recover_at_s": 4.0, "keep_bank": True}
    res = simulate(graph, work, rates=[5.0] * n,
                   network=NetworkConfig(sharing="fifo", uplink=2000.0, loss_timeout_s=0.1, max_retries=1000),
                   gossip=BroadcastConfig(), failures=FailuresConfig(agents={"scheduled": [crash]}), seed=seed)
    lost = [r for r in res.recorder.transfers() if r["src"] == 2 and r["dst"] == 0 and r["outcome"] == "lost"]
    assert lost and lost[0]["end"] < 2.8 < lost[0]["end"] + 0.1  # the resend falls inside the outage
    assert res.metrics.complete and res.held.all()


def test_push_pull_stops_once_each_part_a_dead_agent_splits_off_holds_what_it_can(run, linked):
    """Agent 2 dies before learning and splits the path 0-1-2-3-4: neither part can ever get the
    other's tasks. The exchanges stop once each part holds all its own (no idle timeout needed)."""
    events = []
    res = run(linked(nx.path_graph(5)), {"agents": {"scheduled": [{"agent": 2, "at_s": 0.5}]}},
              gossip=PushPullConfig(period_s=0.2), observer=events.append)
    assert res.held[[0, 1]][:, [0, 1]].all() and res.held[[3, 4]][:, [3, 4]].all()
    assert not res.held[[0, 1]][:, [3, 4]].any() and not res.metrics.complete
    settled = max(e.time for e in events if e.kind == "banked")
    last = max(r["start"] for r in res.recorder.transfers())
    assert last <= settled + 0.2  # each timer notices within one period


def test_push_pull_starts_again_when_an_agent_comes_back_without_its_bank(run, linked):
    """The exchanges stop once all know all (2.7 s); agent 2 crashes at 50 s and comes back at
    60 s with an empty bank: the timers start again and refill it (once, they stayed stopped and
    agent 2 ended with nothing)."""
    graph = linked(nx.path_graph(3), bw=1e4, lat=0.0)
    crash = {"agents": {"scheduled": [{"agent": 2, "at_s": 50.0, "recover_at_s": 60.0, "keep_bank": False}]}}
    res = run(graph, crash, gossip=PushPullConfig(period_s=1.0))
    assert res.held.all() and res.metrics.complete
    assert 60.0 < res.known_at[2, 0] < 63.0


def test_random_link_outages_do_not_pile_digests_up_on_links_that_are_down(linked):
    """Links up 1.5 s and down 5 s on average, 2,000 B packages at 500 B/s: a round over a link
    that is down is skipped, and an ask finding an answer still queued refreshes it, so each link
    holds at most one waiting answer (answers once queued up without end while links were down)."""
    n = 4
    graph = linked(nx.path_graph(n), bw=500.0, lat=0.0)
    work = synthetic_workload(n, 2, macs=10**6, nbytes=2000)
    failures = FailuresConfig(links={"random": {"mtbf_s": 1.5, "mttr_s": 5.0}})
    res = simulate(graph, work, rates=[1e6] * n, network=NetworkConfig(), gossip=PushPullConfig(period_s=0.5),
                   failures=failures, seed=1)
    assert res.metrics.complete and res.held.all()
    digests_per_flow = [sum(p < 0 for p in r["packages"]) for r in res.recorder.transfers()]
    assert max(digests_per_flow) <= 2  # a waiting answer, and at most one ask behind it


def test_random_failures_with_repairs_stop_once_nothing_more_can_spread(sim_run, linked):
    """A crash happens only while something can still spread (learning left, or traffic on the
    network): the recoveries the failure processes will bring about themselves must not keep
    them crashing agents (with them counted, 12 agents failing every 1 s for 4 s churned on until
    the horizon, or without end when none is set)."""
    from sim.workload import synthetic_workload

    events = []
    graph = linked(nx.cycle_graph(12))
    res = sim_run(graph, synthetic_workload(12, 1, macs=10, nbytes=1000, seed=1), gossip=FloodConfig(),
                  failures={"agents": {"random": {"mtbf_s": 1.0, "mttr_s": 4.0, "fraction": 1.0}}, "horizon_s": 300.0},
                  observer=events.append)
    crashes = [e.time for e in events if e.kind == "crashed"]
    busy_until = max([e.time for e in events if e.kind == "learned"] + [t["end"] for t in res.recorder.transfers()])
    assert crashes and max(crashes) <= busy_until
