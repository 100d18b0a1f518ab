"""The equal split of per_package flows alone on their direction (sim.engine.shared): processor-sharing
closed forms, cuts, and agreement with the max-min re-solve it replaces (Network.equal_split off)."""

import networkx as nx
import numpy as np
import pytest
import simpy

from sim.config import FailuresConfig, FloodConfig, NetworkConfig, PushPullConfig
from sim.engine.events import call_at
from sim.engine.network import Network
from sim.simulate import simulate
from sim.workload import synthetic_workload
from sim.engine.host import Listener  # its methods do nothing: subclasses keep the events they record

MB = 1_000_000


class Log(Listener):
    """A listener that keeps every finished flow and counts the starts it hears of."""

    def __init__(self):
        self.flows, self.started = [], []

    def flow_started(self, flow): self.started.append(flow)

    def flow_finished(self, flow, cut):
        self.flows.append((flow, cut))


def edge(sizes, bw=3 * MB):
    """Agents 0 and 1 on one edge of `bw` B/s without latency, per_package streams."""
    links = {"src": np.array([0, 1]), "dst": np.array([1, 0]), "bandwidth": np.array([bw, bw]),
             "latency": np.zeros(2), "loss": np.zeros(2)}
    env, log = simpy.Environment(), Log()
    return env, Network(env, 2, links, NetworkConfig(streams="per_package"), np.array(sizes, dtype=float), 0, log), log


@pytest.mark.parametrize("split", [True, False])
def test_three_flows_end_as_processor_sharing_says(monkeypatch, split):
    """1, 2 and 3 MB at t = 0 on 3 MB/s: 1 MB/s each until the first ends at 1 s, then 1.5 MB/s
    for the 1 MB the second has left (5/3 s), then 3 MB/s for the third's last 1 MB (2 s)."""
    monkeypatch.setattr(Network, "equal_split", split)
    env, net, log = edge([MB, 2 * MB, 3 * MB])
    net.send(0, [0, 1, 2])
    env.run()
    ends = {f.ids_l[0]: f.arr_l[0] for f, _ in log.flows}
    assert ends == pytest.approx({0: 1.0, 1: 5 / 3, 2: 2.0}, rel=1e-12)
    assert (net.split[0] is not None) == split
    assert net.bytes_sent == net.bytes_delivered == 6 * MB


def test_a_joiner_takes_its_share_and_the_receiver_hears_of_a_flow_when_it_is_through():
    """2 MB at 0 and 1 MB at 1 s on 1 MB/s: the first has 1 MB left at t = 1, both then run at
    0.5 MB/s and end together at 3 s; an arrival is announced once, at its end."""
    env, net, log = edge([2 * MB, MB], bw=MB)
    net.send(0, [0])
    call_at(env, 1.0, lambda _e: net.send(0, [1]))
    env.run(until=2.9)
    assert log.started == []  # both still flowing: nothing announced
    env.run()
    assert [f.arr_l[0] for f, _ in log.flows] == pytest.approx([3.0, 3.0], rel=1e-12)
    assert [f.ids_l[0] for f in log.started] == [0, 1]  # ties end in the order they joined


def test_a_cut_counts_the_bytes_each_flow_sent_and_requeues_its_package():
    """1 and 4 MB on 2 MB/s, cut at 1.5 s: the 1 MB flow ended at 1 s (1 MB/s each); the 4 MB one
    sent 1 MB by then and 1 MB more by 1.5 s, so 2 MB left, 1 MB arrived, package 1 queued again."""
    env, net, log = edge([MB, 4 * MB], bw=2 * MB)
    net.send(0, [0, 1])
    call_at(env, 1.5, lambda _e: net.set_down(0))
    env.run()
    (first, cut0), (second, cut1) = log.flows
    assert (first.ids_l, cut0, first.arr_l[0]) == ([0], False, pytest.approx(1.0))
    assert (second.ids_l, cut1, second.limit) == ([1], True, 0)
    assert net.bytes_sent == pytest.approx(3 * MB) and net.bytes_delivered == pytest.approx(MB)
    assert net.queue[0] == [1] and not net.active and net.split[0].n == 0


def run(protocol, n=24, seed=3, loss=0.0, failures=None, nics=False):
    """A per_package small world with jittered package sizes."""
    graph = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=seed)
    nx.set_edge_attributes(graph, 1e6, "bandwidth")
    nx.set_edge_attributes(graph, 0.01, "latency")
    nx.set_edge_attributes(graph, loss, "loss")
    if nics:  # agent 0 is a phone: its flows go through the max-min re-solve, the others split
        graph.nodes[0].update(uplink=2e5, downlink=4e5)
    work = synthetic_workload(n, 2, macs=10**9, nbytes=300_000, seed=seed, jitter=0.3)
    gossip = FloodConfig() if protocol == "flood" else PushPullConfig(period_s=0.5)
    return simulate(graph, work, rates=[1e9] * n, network=NetworkConfig(streams="per_package", loss_timeout_s=0.5),
                    gossip=gossip, failures=failures or FailuresConfig(), seed=seed)


CASES = {
    "flood": dict(protocol="flood"),
    "push_pull": dict(protocol="push_pull"),
    "lossy": dict(protocol="flood", loss=0.1),
    "outages": dict(protocol="push_pull", failures=FailuresConfig(links={"random": {"mtbf_s": 3.0, "mttr_s": 1.0}},
                                                                   horizon_s=200.0)),
    "crashes": dict(protocol="flood", failures=FailuresConfig(
        agents={"random": {"mtbf_s": 4.0, "mttr_s": 1.0, "fraction": 0.3}}, horizon_s=200.0)),
    "phone": dict(protocol="flood", nics=True),
}


SLOW = {"outages", "crashes"}  # random failures: long runs on both paths


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in sorted(CASES)])
def test_the_equal_split_agrees_with_the_max_min_re_solve(monkeypatch, case):
    """The same runs with and without the equal split: the same transfers, packages, bytes and
    outcomes; times to 1e-11 relative (sent bytes are a clock difference here, a sum of per-flow
    increments there). Event counts differ: the re-solve reschedules every flow at every change."""
    fast = run(**CASES[case])
    monkeypatch.setattr(Network, "equal_split", False)
    ref = run(**CASES[case])
    assert fast.metrics.complete == ref.metrics.complete
    for key in ("bytes_sent", "bytes_delivered", "bytes_lost", "transfers", "teacher_macs"):
        assert getattr(fast.metrics, key) == pytest.approx(getattr(ref.metrics, key), rel=1e-12), key
    assert fast.metrics.makespan_s == pytest.approx(ref.metrics.makespan_s, rel=1e-11)
    np.testing.assert_allclose(fast.known_at, ref.known_at, rtol=1e-11)
    a, b = fast.recorder.transfers(), ref.recorder.transfers()
    key = lambda t: (t["start"], t["src"], t["dst"], tuple(t["packages"]))
    a, b = sorted(a, key=key), sorted(b, key=key)
    assert [(t["src"], t["dst"], t["packages"], t["outcome"]) for t in a] == \
        [(t["src"], t["dst"], t["packages"], t["outcome"]) for t in b]
    np.testing.assert_allclose([t["end"] for t in a], [t["end"] for t in b], rtol=1e-11)
    assert fast.metrics.events < ref.metrics.events or case == "phone"
