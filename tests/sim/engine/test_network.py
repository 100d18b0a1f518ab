"""Closed forms of the network model: hops on a line, max-min halves, serial receive, alpha, loss, outages."""

import networkx as nx
import numpy as np
import pytest
import simpy

from sim.config import BroadcastConfig, FailuresConfig, NetworkConfig
from sim.engine.network import Network
from sim.links import link_table
from sim.workload import TaskWork, Workload
from sim.engine.host import Listener  # its methods do nothing: subclasses keep the events they record

BW, LAT, S = 1000.0, 0.1, 500


@pytest.fixture(scope="module")
def linked(linked):
    """This module's links: BW bytes/s and LAT s on every edge unless told otherwise."""
    return lambda graph, bw=BW, lat=LAT, loss=0.0: linked(graph, bw, lat, loss)


@pytest.fixture(scope="module")
def run(sim_run):
    """Agents at 1 MAC/s, flood, seed 7."""

    def run(graph, workload, gossip=None, network=None, failures=None, rates=None, **kw):
        return sim_run(graph, workload, rates=rates or 1.0, gossip=gossip, network=network, failures=failures,
                       seed=7, **kw)

    return run


def one_package(owner=0, nbytes=S, macs=0):
    return Workload([TaskWork(0, owner, macs, nbytes, 0)])


def test_flood_down_a_line_arrives_at_hop_k_after_k_transfers(run, linked):
    res = run(linked(nx.path_graph(6)), one_package())
    expected = np.arange(6) * (LAT + S / BW)
    assert np.allclose(res.known_at[:, 0], expected)
    assert res.metrics.makespan_s == pytest.approx(5 * (LAT + S / BW))


class Stub(Listener):
    """A listener that records finished flows."""

    def __init__(self):
        self.finished = []

    def flow_finished(self, flow, cut):
        self.finished.append((flow.env_now if hasattr(flow, "env_now") else None, flow))


def network_for(graph, config=None, sizes=(S, S, S)):
    env = simpy.Environment()
    config = config or NetworkConfig()
    stub = Stub()
    rates = np.ones(graph.number_of_nodes())
    net = Network(env, graph.number_of_nodes(), link_table(graph, config, rates, 1.0), config,
                  np.array(sizes, dtype=float), 0, stub)
    return env, net, stub


def test_two_flows_on_one_link_each_get_half_the_bandwidth(linked):
    env, net, stub = network_for(linked(nx.path_graph(2)))
    d = net.index[0, 1]
    a = net.open_flow(d, np.array([0]))
    b = net.open_flow(d, np.array([1]))
    assert a.rate == pytest.approx(BW / 2) and b.rate == pytest.approx(BW / 2)
    env.run()
    for flow in (a, b):
        assert flow.arr[-1] == pytest.approx(LAT + 2 * S / BW)
    assert net.bytes_sent == net.bytes_delivered == 2 * S


def test_a_flow_speeds_up_when_its_neighbour_ends(linked):
    env, net, stub = network_for(linked(nx.path_graph(2)), sizes=(S, 2 * S))
    d = net.index[0, 1]
    short = net.open_flow(d, np.array([0]))
    long = net.open_flow(d, np.array([1]))
    env.run()
    # both at BW/2 until the short one ends at 2S/BW; the long one has S left at full rate
    assert short.arr[-1] == pytest.approx(LAT + 2 * S / BW)
    assert long.arr[-1] == pytest.approx(LAT + 3 * S / BW)


def test_uplink_is_shared_max_min_between_links(linked):
    config = NetworkConfig(uplink=BW)  # links are 2 BW, the sender's NIC is BW
    env, net, stub = network_for(linked(nx.star_graph(2), bw=2 * BW), config)
    f1 = net.open_flow(net.index[0, 1], np.array([0]))
    f2 = net.open_flow(net.index[0, 2], np.array([1]))
    assert f1.rate == pytest.approx(BW / 2) and f2.rate == pytest.approx(BW / 2)
    env.run()
    assert f2.arr[-1] == pytest.approx(LAT + 2 * S / BW)


def test_fifo_serves_one_flow_at_a_time_on_a_shared_uplink(linked):
    config = NetworkConfig(uplink=BW, sharing="fifo")
    env, net, stub = network_for(linked(nx.star_graph(2), bw=2 * BW), config)
    net.send(net.index[0, 1], [0])
    net.send(net.index[0, 2], [1])
    env.run()
    ends = sorted(flow.arr[-1] for _, flow in stub.finished)
    assert ends == pytest.approx([LAT + S / BW, LAT + 2 * S / BW])


@pytest.mark.parametrize("n", [3, 6])
def test_broadcast_with_serial_receive_finishes_after_n_minus_1_transfers(n, run, linked):
    work = Workload([TaskWork(i, i, 0, S, 0) for i in range(n)])
    res = run(linked(nx.complete_graph(n)), work, BroadcastConfig(), NetworkConfig(serial_receive=True))
    assert res.metrics.makespan_s == pytest.approx((n - 1) * S / BW + LAT)
    parallel = run(linked(nx.complete_graph(n)), work, BroadcastConfig())
    assert parallel.metrics.makespan_s == pytest.approx(S / BW + LAT)


def test_alpha_mode_prices_each_byte_at_alpha_macs(run, linked):
    rate, macs, alpha = 1e6, 3e6, 50.0
    res = run(linked(nx.path_graph(2), lat=0.0), one_package(macs=macs), network=NetworkConfig(mode="alpha"),
              rates=[rate, rate], alpha=alpha)
    assert res.metrics.makespan_s == pytest.approx((macs + alpha * S) / rate)
    assert res.metrics.alpha_cost == pytest.approx(macs + alpha * S)


def test_lost_packages_are_retransmitted_and_every_attempt_counted(run, linked):
    net = NetworkConfig(loss_timeout_s=1.0, max_retries=50)
    res = run(linked(nx.path_graph(2), loss=0.6), one_package(), network=net)
    m = res.metrics
    attempts = round(m.bytes_sent / S)
    assert m.complete and attempts >= 1
    assert m.bytes_lost == pytest.approx((attempts - 1) * S)
    # each lost attempt costs the transfer plus the timeout before the retry
    assert m.makespan_s == pytest.approx(attempts * (LAT + S / BW) + (attempts - 1) * 1.0)


def test_unreliable_loss_drops_the_package(run, linked):
    res = run(linked(nx.path_graph(2), loss=0.999), one_package(), network=NetworkConfig(reliable=False))
    assert not res.metrics.complete and res.metrics.coverage_final == 0.5
    assert res.metrics.bytes_lost == res.metrics.bytes_sent == S


def test_an_outage_cuts_the_transfer_and_flood_resends_when_the_link_is_back(run, linked):
    failures = FailuresConfig(links={"scheduled": [{"edge": [0, 1], "start_s": 0.2, "end_s": 2.0}]})
    res = run(linked(nx.path_graph(2)), one_package(), failures=failures)
    m = res.metrics
    assert m.makespan_s == pytest.approx(2.0 + S / BW + LAT)
    assert m.bytes_lost == pytest.approx(0.2 * BW) and m.bytes_delivered == S
    outcomes = [row["outcome"] for row in res.recorder.transfers()]
    assert outcomes == ["cut", "delivered"]


def test_bytes_sent_is_delivered_plus_lost(run, linked):
    g = linked(nx.cycle_graph(8), loss=0.2)
    work = Workload([TaskWork(i, i, 1, S, 0) for i in range(8)])
    m = run(g, work).metrics
    assert m.bytes_sent == pytest.approx(m.bytes_delivered + m.bytes_lost)
    assert sum(m.bytes_out) == pytest.approx(m.bytes_sent)
    assert sum(m.bytes_in) == pytest.approx(m.bytes_delivered)
    assert sum(m.bytes_per_link.values()) == pytest.approx(m.bytes_sent)


def test_call_later_orders_like_a_timeout():
    """call_later takes the heap place env.timeout would: same-time events keep creation order."""
    from sim.engine.events import call_later

    def run(bare: bool) -> list:
        env, log = simpy.Environment(), []
        for i, delay in enumerate([1.0, 0.0, 1.0, 2.0, 1.0]):
            fn = (lambda i: lambda _e: log.append((env.now, i)))(i)
            if bare and i % 2:
                call_later(env, delay, fn)
            else:
                env.timeout(delay).callbacks.append(fn)
        env.run()
        return log

    assert run(True) == run(False) == [(0.0, 1), (1.0, 0), (1.0, 2), (1.0, 4), (2.0, 3)]
