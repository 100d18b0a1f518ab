"""Engine contract: determinism, input errors naming the field, observers, timing modes, merge cost."""

import json

import networkx as nx
import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from sim.config import FloodConfig, GossipConfig, NetworkConfig, PushConfig, PushPullConfig
from sim.errors import SimError
from sim.workload import TaskWork, Workload, synthetic_workload


@pytest.fixture(scope="module")
def run(linked, sim_run):
    """A lossy small world of 12 agents, 2 tasks each, flood, unless told otherwise."""

    def run(graph=None, work=None, rates=None, gossip=None, seed=11, **kw):
        graph = graph if graph is not None else linked(nx.connected_watts_strogatz_graph(12, 4, 0.3, seed=1), loss=0.05)
        n = graph.number_of_nodes()
        work = work or synthetic_workload(n, 2, macs=100, nbytes=2000, seed=2, jitter=0.3)
        return sim_run(graph, work, rates=rates if rates is not None else 10.0, gossip=gossip, seed=seed, **kw)

    return run


@pytest.mark.parametrize("gossip", [FloodConfig(), PushPullConfig(period_s=0.3)])
def test_same_seed_same_result(gossip, run):
    a, b = run(gossip=gossip), run(gossip=gossip)
    assert a.metrics.to_dict() == b.metrics.to_dict()
    assert a.recorder.transfers() == b.recorder.transfers()
    assert np.array_equal(a.known_at, b.known_at)


def test_other_seed_other_losses(run):
    assert run(seed=1).metrics.bytes_lost != run(seed=2).metrics.bytes_lost


def test_learning_order_and_time_follow_the_workload_and_rates(run, linked):
    work = Workload([TaskWork(0, 0, 30, 10, 0), TaskWork(1, 0, 20, 10, 0), TaskWork(2, 1, 10, 10, 0)])
    res = run(linked(nx.path_graph(2)), work, rates=[10.0, 5.0])
    assert res.known_at[0, 0] == pytest.approx(3.0)
    assert res.known_at[0, 1] == pytest.approx(5.0)
    assert res.known_at[1, 2] == pytest.approx(2.0)
    assert res.metrics.single_agent_s == pytest.approx(60 / 10.0)  # the fastest agent's rate


def test_wall_timing_uses_measured_seconds(run, linked):
    work = Workload([TaskWork(0, 0, 10**12, 10, 0, wall_s=2.5)])
    res = run(linked(nx.path_graph(2), lat=0.0, bw=10.0), work, timing="wall")
    assert res.known_at[:, 0] == pytest.approx([2.5, 3.5])


def test_merging_costs_student_macs_one_package_at_a_time(run, linked):
    work = Workload([TaskWork(0, 0, 0, 10, 40), TaskWork(1, 2, 0, 10, 40)])
    res = run(linked(nx.path_graph(3), lat=0.0, bw=10.0), work, rates=[10.0, 10.0, 10.0])
    # both packages reach agent 1 at t=1; merging takes 4 s each, in turn
    assert sorted(res.known_at[1]) == pytest.approx([5.0, 9.0])
    assert res.metrics.student_macs == 4 * 40


def test_observer_sees_learned_banked_and_result_holds_banks(run):
    events = []
    res = run(observer=events.append)
    kinds = {e.kind for e in events}
    assert {"learned", "banked"} <= kinds
    assert all(isinstance(e.time, float) for e in events)
    assert res.bank(0) == list(range(24))
    changes = res.bank_changes()
    assert len(changes) == 12 * 24 and changes == sorted(changes)


def test_metrics_are_json_friendly(run):
    json.dumps(run().metrics.to_dict())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rates": [1.0] * 3}, "rates has 3 values"),
        ({"rates": [-1.0] * 12}, "rates must be > 0"),
        ({"alpha": 0.0}, "alpha must be > 0"),
        ({"timing": "cpu"}, "timing must be"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, match, run):
    with pytest.raises(SimError, match=match):
        run(**kwargs)


def test_bad_workload_and_links_name_the_field(run, linked):
    with pytest.raises(SimError, match="owner 5 is not an agent"):
        run(linked(nx.path_graph(2)), Workload([TaskWork(0, 5, 1, 1, 0)]))
    with pytest.raises(SimError, match="macs must be a number >= 0"):
        TaskWork(0, 0, -1, 1, 0)
    with pytest.raises(SimError, match="wall_s must be a number >= 0, got nan"):
        TaskWork(0, 0, 1, 1, 0, wall_s=float("nan"))
    with pytest.raises(SimError, match="bandwidth must be > 0"):
        run(linked(nx.path_graph(2), bw=-5.0), Workload([TaskWork(0, 0, 1, 1, 0)]))
    graph = nx.path_graph(2)
    with pytest.raises(SimError, match="no 'bandwidth'"):
        run(graph, Workload([TaskWork(0, 0, 1, 1, 0)]))


def test_config_models_refuse_unknown_keys_and_protocols():
    with pytest.raises(ValidationError):
        NetworkConfig(bandwidth=3)
    with pytest.raises(ValidationError):
        NetworkConfig(uplink=-1.0)
    with pytest.raises(ValidationError):
        TypeAdapter(GossipConfig).validate_python({"protocol": "telepathy"})
    assert TypeAdapter(GossipConfig).validate_python({"protocol": "push", "fanout": 3}).fanout == 3


def test_a_package_of_zero_bytes_is_refused():
    """It would land as it is sent: a tie no engine rule orders (and no real package is empty)."""
    with pytest.raises(SimError, match="nbytes must be >= 1"):
        TaskWork(0, 0, 10, 0, 0)


@pytest.mark.parametrize("gossip", [FloodConfig(), PushPullConfig(period_s=0.3), PushConfig(fanout=2)],
                         ids=["flood", "push_pull", "push"])
def test_the_single_item_fast_path_gives_the_reference_intakes_answer(gossip, monkeypatch, run):
    """Engine._take_one is the one fast path of the reference intake Engine._take: with it off,
    the same run (lossy links: repeats and resends come in too) is the same to the last bit."""
    from sim.engine.core import Engine

    calls = []
    take_one = Engine._take_one
    monkeypatch.setattr(Engine, "_take_one", lambda self, *a: (calls.append(1), take_one(self, *a))[1])
    fast = run(gossip=gossip)
    assert calls  # the fast path ran
    monkeypatch.setattr(Engine, "fast_intake", False)
    calls.clear()
    ref = run(gossip=gossip)
    assert not calls
    assert ref.metrics.to_dict() == fast.metrics.to_dict()  # event counts included
    assert ref.recorder.transfers() == fast.recorder.transfers()
    assert np.array_equal(ref.known_at, fast.known_at) and ref.bank_changes() == fast.bank_changes()
