"""Properties on random connected graphs: full delivery to survivors, no double banking, byte balance."""

import signal
from contextlib import contextmanager

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sim.config import BroadcastConfig, FailuresConfig, FloodConfig, NetworkConfig, PushConfig, PushPullConfig
from sim.simulate import simulate
from sim.workload import synthetic_workload

PROTOCOLS = {
    "flood": FloodConfig(),
    "push_pull": PushPullConfig(period_s=0.2),
    "push_full": None,  # push with fanout = min degree and many rounds: like flood on regular parts
    "broadcast": BroadcastConfig(),
}


@st.composite
def scenarios(draw):
    """A random connected graph with random links, a protocol, and maybe a crash and a partition."""
    n = draw(st.integers(2, 9))
    seed = draw(st.integers(0, 10**6))
    protocol = draw(st.sampled_from(sorted(PROTOCOLS)))
    if protocol == "broadcast":
        graph = nx.complete_graph(n)
    else:
        p = draw(st.floats(0.2, 0.9))
        graph = nx.gnp_random_graph(n, p, seed=seed)
        for u in range(n - 1):  # make it connected with a spanning path
            graph.add_edge(u, u + 1)
    rng = np.random.default_rng(seed)
    for u, v in graph.edges:
        graph.edges[u, v].update(bandwidth=float(rng.uniform(500, 5000)), latency=float(rng.uniform(0, 0.05)),
                                 loss=float(draw(st.sampled_from([0.0, 0.0, 0.1]))))
    failures = {}
    if draw(st.booleans()) and n > 2:
        failures["agents"] = {"scheduled": [{"agent": draw(st.integers(0, n - 1)), "at_s": draw(st.floats(0, 3)),
                                             "recover_at_s": draw(st.sampled_from([None, 4.0]))}]}
    if draw(st.booleans()):
        u, v = sorted(graph.edges)[draw(st.integers(0, graph.number_of_edges() - 1))]
        failures["partitions"] = [{"edges": [[u, v]], "start_s": 0.5, "end_s": 2.0}]
    network = NetworkConfig(sharing=draw(st.sampled_from(["maxmin", "fifo"])), streams=draw(st.sampled_from(["per_link", "per_package"])),
                            serial_receive=draw(st.booleans()), uplink=draw(st.sampled_from([None, 2000.0])),
                            loss_timeout_s=0.1, max_retries=1000)
    if protocol == "push_full":
        gossip = PushConfig(fanout=min(d for _, d in graph.degree()), rounds=100)
    else:
        gossip = PROTOCOLS[protocol]
    return graph, protocol, gossip, network, FailuresConfig(**failures), seed


# derandomize: CI draws the same 60 cases every time (reproducible); run it with more random
# examples by hand after changing the engine. A random draw once found a case that never ended:
# test_per_package_push_pull_on_slow_lossy_links_ends below.
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_survivors_get_every_surviving_package_once_and_bytes_balance(case):
    graph, protocol, gossip, network, failures, seed = case
    n = graph.number_of_nodes()
    work = synthetic_workload(n, 2, macs=5, nbytes=500, student_macs=1, seed=seed, jitter=0.5)
    events = []
    res = simulate(graph, work, rates=[5.0] * n, network=network, gossip=gossip, failures=failures,
                   seed=seed, observer=events.append)
    m = res.metrics
    # a package reaches an agent's bank at most once (between bank wipes; none here)
    seen = {}
    for e in events:
        if e.kind in ("banked", "learned"):
            for t in e.tasks:
                assert (e.agent, t) not in seen, (e.agent, t)
                seen[e.agent, t] = e.time
    assert np.isclose(m.bytes_sent, m.bytes_delivered + m.bytes_lost)
    complete_expected = protocol in ("flood", "push_pull", "broadcast") or (
        protocol == "push_full" and all(d == gossip.fanout for _, d in graph.degree()))
    if complete_expected:
        alive = res.alive
        surviving = res.held[alive].any(axis=0)
        # the crashed agent may have split the graph: check each surviving part
        live = graph.subgraph(np.flatnonzero(alive).tolist())
        owners = work.column("owner").astype(int)
        for part in nx.connected_components(live):
            part = sorted(part)
            held_here = res.held[part].any(axis=0)
            if protocol == "broadcast":  # no relays: a teacher that dies mid-send leaves gaps
                held_here &= alive[owners]
            assert res.held[np.ix_(part, np.flatnonzero(held_here))].all()
        if len(live) and nx.is_connected(live) and protocol != "broadcast":
            assert m.complete and res.held[alive][:, surviving].all()


# The case a random draw found (hypothesis seed 6): 8 agents, push_pull every 0.2 s, per_package,
# maxmin, loss 0.1 on four links, seed 53. It never ended (1200 simulated s in 10 s of wall time,
# the event queue growing): under per_package every ask over the 550 B/s link 0-1 was answered with
# another copy of each package agent 0 lacked, sharing the link with the copies already on their
# way, so none ever got through (tests/sim/engine/test_protocols.py holds the root cause alone).
SLOW_LOSSY_PER_PACKAGE = {
    "edges": [(0, 1, 550.0714755391981, 0.035945532688385046, 0.0), (1, 2, 4186.642670627913, 0.03457834549705371, 0.1),
              (1, 4, 1990.0723601794784, 0.04665443318100132, 0.1), (1, 5, 971.7114842839719, 0.03332183200552213, 0.0),
              (2, 3, 4992.328556099951, 0.03843955847901866, 0.1), (2, 5, 1813.2233142293026, 0.015065812575420202, 0.0),
              (3, 4, 3199.2962717187615, 0.03147574245323705, 0.0), (3, 5, 1319.5873446038327, 0.03902991161782534, 0.0),
              (4, 5, 4535.639054305502, 0.03522939773379516, 0.0), (5, 6, 860.6229435611482, 0.04028337892670103, 0.0),
              (5, 7, 2182.484604466803, 0.004052571291883422, 0.0), (6, 7, 591.592762188368, 0.03442058602301999, 0.1)],
    "network": {"mode": "explicit", "sharing": "maxmin", "streams": "per_package", "loss_timeout_s": 0.1,
                "max_retries": 1000},
    "period_s": 0.2, "seed": 53,
}


@contextmanager
def wall_limit(seconds: int):
    """Fail (instead of hanging the suite) if the block runs longer than `seconds` of wall time:
    a guard for a run that once never ended, far above its normal time (0.1 s), not a timing test."""
    def stop(*_):
        raise TimeoutError(f"the run did not end within {seconds} s of wall time")
    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_per_package_push_pull_on_slow_lossy_links_ends():
    case = SLOW_LOSSY_PER_PACKAGE
    graph = nx.Graph()
    for u, v, bw, lat, loss in case["edges"]:
        graph.add_edge(u, v, bandwidth=bw, latency=lat, loss=loss)
    n = graph.number_of_nodes()
    work = synthetic_workload(n, 2, macs=5, nbytes=500, student_macs=1, seed=case["seed"], jitter=0.5)
    events = []
    with wall_limit(120):
        res = simulate(graph, work, rates=[5.0] * n, network=NetworkConfig(**case["network"]),
                       gossip=PushPullConfig(period_s=case["period_s"]), failures=FailuresConfig(),
                       seed=case["seed"], observer=events.append)
    # nobody fails and the graph is connected, so every agent ends with all 8 x 2 packages, each
    # learned or banked once; lossy links with 1000 retries lose bytes, never a package
    assert n == 8 and nx.is_connected(graph)
    assert res.alive.all() and res.held.shape == (8, 16) and res.held.all()
    taken = [(e.agent, t) for e in events if e.kind in ("banked", "learned") for t in e.tasks]
    assert sorted(taken) == [(a, t) for a in range(8) for t in range(16)]
    m = res.metrics
    assert m.complete and m.bytes_lost > 0
    assert m.bytes_sent == pytest.approx(m.bytes_delivered + m.bytes_lost)
