"""Per-agent NICs, per_link vs per_package streams, CM02 latency order, alpha-priced NICs and the
O(log n) grants, against closed forms and a reference rescan."""

import networkx as nx
import numpy as np
import pytest
import simpy

import sim.engine.network as network_module
from sim.config import BroadcastConfig, FloodConfig, NetworkConfig
from sim.engine.events import call_at
from sim.engine.network import Network
from sim.links import nic_caps
from sim.simulate import simulate
from sim.workload import TaskWork, Workload, synthetic_workload
from sim.engine.host import Listener  # its methods do nothing: subclasses keep the events they record

MB = 1_000_000


class Log(Listener):
    """A listener that keeps every finished flow."""

    def __init__(self):
        self.flows = []

    def flow_finished(self, flow, cut):
        self.flows.append(flow)


def edge_net(config, sizes, bw=1e6, lat=0.0, nics=None):
    """Agents 0 and 1 on one edge of `bw` B/s and `lat` s."""
    links = {"src": np.array([0, 1]), "dst": np.array([1, 0]), "bandwidth": np.array([bw, bw]),
             "latency": np.array([lat, lat]), "loss": np.zeros(2)}
    env = simpy.Environment()
    log = Log()
    return env, Network(env, 2, links, config, np.array(sizes), 0, log, nics), log


def arrivals(log):
    return {i: a for f in log.flows for i, a in zip(f.ids_l, f.arr_l)}


@pytest.mark.parametrize("streams, expected", [("per_link", {0: 1.0, 1: 2.0}), ("per_package", {0: 2.0, 1: 2.0})])
def test_two_packages_on_one_edge(streams, expected):
    """per_link: one FIFO stream (1 s, 2 s); per_package: two shared connections (both 2 s)."""
    env, net, log = edge_net(NetworkConfig(streams=streams), [MB, MB])
    net.send(0, [0]), net.send(0, [1])
    env.run()
    assert arrivals(log) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("streams, expected", [("per_link", {0: 2.0, 1: 3.0}), ("per_package", {0: 3.0, 1: 3.0})])
def test_late_joiner(streams, expected):
    """2 MB from t = 0, 1 MB from t = 1 on 1 MB/s: per_link queues it behind (2 s, 3 s); per_package
    halves the rate from t = 1, both end at 3 s."""
    env, net, log = edge_net(NetworkConfig(streams=streams), [2 * MB, MB])
    net.send(0, [0])
    call_at(env, 1.0, lambda _e: net.send(0, [1]))
    env.run()
    assert arrivals(log) == pytest.approx(expected, rel=1e-12)


def test_independent_link_arrival_is_start_plus_bytes_over_bandwidth_plus_latency():
    """No NIC shared: per_link and per_package agree with the pipe's closed form."""
    for streams in ("per_link", "per_package"):
        env, net, log = edge_net(NetworkConfig(streams=streams), [3 * MB], bw=2e6, lat=0.25)
        call_at(env, 0.5, lambda _e: net.send(1, [0]))
        env.run()
        assert arrivals(log)[0] == pytest.approx(0.5 + 1.5 + 0.25, rel=1e-12)


def test_per_link_stream_with_a_nic_pays_its_latency_once_while_warm():
    """A stream behind a NIC: the first batch waits the latency, a batch queued long before the
    previous one arrived follows at once (the connection is warm): 0.5 + 1, then + 1."""
    nics = {"uplink": np.array([1e6, np.inf]), "downlink": np.array([np.inf, np.inf])}
    env, net, log = edge_net(NetworkConfig(), [MB, MB], bw=1e7, lat=0.5, nics=nics)
    net.send(0, [0])
    call_at(env, 0.1, lambda _e: net.send(0, [1]))  # queued behind the first
    env.run()
    assert arrivals(log) == pytest.approx({0: 1.5, 1: 2.5}, rel=1e-12)


def two_agents(cap_name, cap, mode="explicit", rate=1e12):
    graph = nx.path_graph(2)
    graph.edges[0, 1].update(bandwidth=1e9, latency=0.0)
    graph.nodes[1][cap_name] = cap
    return graph, NetworkConfig(mode=mode)


def test_alpha_mode_prices_the_nic_like_a_link():
    """1 MB behind downlink 1e6 in alpha mode: the cap is cap / alpha B/s, so the transfer takes
    alpha seconds (links at rate / alpha are 1e12 / alpha B/s: 1e-6 alpha s more, shared)."""
    times = {}
    for alpha in (10.0, 1000.0):
        graph, config = two_agents("downlink", 1e6, mode="alpha")
        work = Workload([TaskWork(0, 0, 0, MB, 0)])
        res = simulate(graph, work, rates=[1e12, 1e12], network=config, gossip=FloodConfig(), alpha=alpha)
        times[alpha] = res.known_at[1, 0]
        assert times[alpha] == pytest.approx(alpha * MB / 1e6, rel=1e-9)
    assert times[1000.0] / times[10.0] == pytest.approx(100.0, rel=1e-12)


def test_a_phone_uplink_in_a_star_broadcast():
    """Agent 0 (a phone: uplink 2.5e5) sends 0.5 MB to 3 others over 1e7 links: the uplink shared
    by three, each gets 2.5e5 / 3, all arrive at 0.5e6 * 3 / 2.5e5 + latency = 6.01 s."""
    graph = nx.complete_graph(4)
    for u, v in graph.edges:
        graph.edges[u, v].update(bandwidth=1e7, latency=0.01)
    graph.nodes[0]["uplink"] = 2.5e5
    work = Workload([TaskWork(0, 0, 0, 500_000, 0)])
    res = simulate(graph, work, rates=[1.0] * 4, network=NetworkConfig(), gossip=BroadcastConfig())
    assert res.known_at[1:, 0] == pytest.approx([6.01] * 3, rel=1e-12)
    assert res.engine == "simpy"


def test_drawn_nic_caps_are_seeded_per_agent_and_node_attributes_win():
    graph = nx.path_graph(5)
    graph.nodes[3]["downlink"] = 7.0
    config = NetworkConfig(downlink={"dist": "uniform", "low": 1e5, "high": 2e5}, uplink=3e6)
    a, b, c = nic_caps(graph, config, 1.0, seed=4), nic_caps(graph, config, 1.0, seed=4), nic_caps(graph, config, 1.0, seed=5)
    assert np.array_equal(a["downlink"], b["downlink"]) and not np.array_equal(a["downlink"], c["downlink"])
    drawn = np.delete(a["downlink"], 3)
    assert ((drawn >= 1e5) & (drawn <= 2e5)).all() and len(set(drawn.tolist())) == 4
    assert a["downlink"][3] == 7.0 and (a["uplink"] == 3e6).all()
    alpha = nic_caps(graph, NetworkConfig(mode="alpha", uplink=3e6), 1000.0, seed=4)
    assert (alpha["uplink"] == 3e3).all() and alpha["downlink"].tolist() == [np.inf] * 3 + [7.0 / 1000.0, np.inf]


@pytest.mark.parametrize("seed", range(4))
def test_a_serial_receiver_takes_one_transfer_at_a_time_and_never_faster_than_its_nic(seed):
    """Broadcast on 7 agents with random latencies through serial 2000 B/s downlinks: on each
    receiver the bandwidth phases of its flows never overlap, and no flow beats the NIC."""
    n = 7
    graph = nx.complete_graph(n)
    rng = np.random.default_rng(seed)
    for u, v in graph.edges:
        graph.edges[u, v].update(bandwidth=float(rng.uniform(500, 5000)), latency=float(rng.uniform(0, 0.5)))
    work = synthetic_workload(n, 2, macs=5, nbytes=500, seed=seed, jitter=0.3)
    log = Log()
    original = network_module.Network._close

    def close(self, flow, cut):
        log.flows.append(flow)
        original(self, flow, cut)

    network_module.Network._close = close
    try:
        simulate(graph, work, rates=[5.0] * n, network=NetworkConfig(serial_receive=True, downlink=2000.0),
                 gossip=BroadcastConfig(), seed=seed)
    finally:
        network_module.Network._close = original
    for v in range(n):
        spans = sorted((f.start, f.arr_l[-1]) for f in log.flows if f.dst == v)
        assert all(b[0] >= a[1] - 1e-12 for a, b in zip(spans, spans[1:]))
        assert all(f.rate <= 2000.0 for f in log.flows)


class RescanGrants:
    """The reference: every waiting request rescanned in FIFO order after every change (the
    engine's old `_grant`)."""

    def __init__(self, exclusive, start):
        self.exclusive, self.start, self.holder, self.waiting = exclusive, start, {}, []

    def __bool__(self):
        return bool(self.waiting)

    def free(self, res):
        return all(r not in self.holder for r in res if self.exclusive[r])

    def hold(self, r, owner):
        self.holder[r] = owner

    def release(self, r, owner):
        if self.holder.get(r) is owner:
            del self.holder[r]

    def ask(self, request, res):
        self.waiting.append((request, res))
        self.grant()

    def cancel(self, request):
        self.waiting = [w for w in self.waiting if w[0] is not request and not (w[0] == request)]

    def grant(self):
        still = []
        while self.waiting:
            request, res = self.waiting.pop(0)
            if self.free(res):
                self.start(request)
            else:
                still.append((request, res))
        self.waiting = still + self.waiting


@pytest.mark.parametrize("streams", ["per_link", "per_package"])
@pytest.mark.parametrize("seed", range(3))
def test_grants_start_what_a_full_rescan_starts(monkeypatch, streams, seed):
    """FIFO sharing with capped NICs (three exclusive resources per flow) and serial receive:
    the per-resource queues give the same run as rescanning every request."""
    n = 7
    graph = nx.gnp_random_graph(n, 0.6, seed=seed)
    for u in range(n - 1):
        graph.add_edge(u, u + 1)
    rng = np.random.default_rng(seed)
    for u, v in graph.edges:
        graph.edges[u, v].update(bandwidth=float(rng.uniform(500, 5000)), latency=float(rng.uniform(0, 0.05)))
    work = synthetic_workload(n, 3, macs=5, nbytes=500, seed=seed, jitter=0.5)
    config = NetworkConfig(sharing="fifo", uplink=2000.0, downlink=3000.0, serial_receive=True, streams=streams)
    fast = simulate(graph, work, rates=[5.0] * n, network=config, gossip=FloodConfig(), seed=seed)
    monkeypatch.setattr(network_module, "Grants", RescanGrants)
    slow = simulate(graph, work, rates=[5.0] * n, network=config, gossip=FloodConfig(), seed=seed)
    assert np.array_equal(fast.known_at, slow.known_at)
    assert fast.metrics.bytes_sent == slow.metrics.bytes_sent
