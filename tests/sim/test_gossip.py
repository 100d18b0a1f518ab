"""Gossip protocols: everyone gets everything once; digests cost bytes; bad settings are refused."""

import networkx as nx
import numpy as np
import pytest

from sim.config import BroadcastConfig, FailuresConfig, FloodConfig, NetworkConfig, PushConfig, PushPullConfig
from sim.engine import simulate
from sim.errors import SimError
from sim.workload import synthetic_workload

S = 1000


def linked(graph, bw=1e4, lat=0.01):
    nx.set_edge_attributes(graph, bw, "bandwidth")
    nx.set_edge_attributes(graph, lat, "latency")
    return graph


def run(graph, gossip, tasks_per_agent=2, observer=None, seed=3):
    n = graph.number_of_nodes()
    work = synthetic_workload(n, tasks_per_agent, macs=10, nbytes=S, seed=1, jitter=0.5)
    return simulate(graph, work, rates=[10.0] * n, network=NetworkConfig(), gossip=gossip,
                    failures=FailuresConfig(), seed=seed, observer=observer)


def banked_counts(events):
    counts = {}
    for event in events:
        if event.kind in ("banked", "learned"):
            for task in event.tasks:
                counts[event.agent, task] = counts.get((event.agent, task), 0) + 1
    return counts


@pytest.mark.parametrize("gossip", [FloodConfig(), PushPullConfig(period_s=0.5), PushConfig(fanout=2, rounds=50)])
def test_every_agent_banks_every_package_exactly_once(gossip):
    graph = linked(nx.cycle_graph(10))
    events = []
    res = run(graph, gossip, observer=events.append)
    counts = banked_counts(events)
    assert max(counts.values()) == 1
    if gossip.protocol != "push":  # push is a rumour: it may miss agents
        assert res.metrics.complete and res.held.all()
        assert len(counts) == 10 * 20


def test_broadcast_reaches_everyone_in_one_hop_on_a_full_graph():
    res = run(linked(nx.complete_graph(5)), BroadcastConfig())
    assert res.metrics.complete
    assert res.metrics.transfers == len(res.recorder)
    # 10 packages, each sent to 4 agents, nothing relayed
    total = synthetic_workload(5, 2, macs=10, nbytes=S, seed=1, jitter=0.5).column("nbytes").sum()
    assert res.metrics.bytes_sent == pytest.approx(4 * total)


def test_broadcast_needs_a_full_graph():
    with pytest.raises(SimError, match="full graph"):
        run(linked(nx.cycle_graph(5)), BroadcastConfig())


def test_flood_never_sends_a_package_back_where_it_came_from_on_a_line():
    res = run(linked(nx.path_graph(4)), FloodConfig(), tasks_per_agent=1)
    # on a line each package crosses each edge once, away from its owner
    total = synthetic_workload(4, 1, macs=10, nbytes=S, seed=1, jitter=0.5).column("nbytes").sum()
    assert res.metrics.bytes_sent == pytest.approx(3 * total)


def test_push_pull_counts_digest_bytes():
    res = run(linked(nx.cycle_graph(6)), PushPullConfig(period_s=0.5, digest_bytes_per_id=8))
    packages = sum(len([p for p in row["packages"] if p >= 0]) for row in res.recorder.transfers())
    assert res.metrics.bytes_sent > packages * S  # the rest is digests
    assert res.metrics.complete


def test_push_pull_max_rounds_bounds_the_exchanges():
    res = run(linked(nx.path_graph(8)), PushPullConfig(period_s=0.5, max_rounds=1))
    assert not res.metrics.complete


def test_push_with_full_fanout_behaves_like_flood():
    graph = linked(nx.cycle_graph(7))
    push = run(graph, PushConfig(fanout=2, rounds=100))
    flood = run(graph, FloodConfig())
    assert push.metrics.complete
    assert push.metrics.makespan_s == pytest.approx(flood.metrics.makespan_s)


def test_push_fanout_larger_than_the_degree_is_refused():
    with pytest.raises(SimError, match="fanout=3"):
        run(linked(nx.cycle_graph(5)), PushConfig(fanout=3))


def test_push_stops_at_leaves_without_error():
    res = run(linked(nx.path_graph(5)), PushConfig(fanout=1, rounds=10))
    assert res.metrics.bytes_sent == pytest.approx(res.metrics.bytes_delivered)
    assert res.held.sum(axis=0).min() >= 1
