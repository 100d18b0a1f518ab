"""Loss takes only what is on the wire: an empty push_pull digest (0 bytes) always arrives."""

import networkx as nx

from sim.config import FailuresConfig, NetworkConfig, PushPullConfig
from sim.simulate import simulate
from sim.workload import synthetic_workload


def test_an_empty_digest_puts_nothing_on_the_wire_so_nothing_of_it_is_lost():
    g = nx.cycle_graph(4)
    nx.set_edge_attributes(g, 1000.0, "bandwidth")
    nx.set_edge_attributes(g, 0.5, "loss")
    # learning takes 10 s and a round is 0.5 s: the first rounds' digests list no id (0 bytes)
    work = synthetic_workload(4, 1, macs=100, nbytes=100, student_macs=0)
    res = simulate(g, work, rates=[10.0] * 4, network=NetworkConfig(), gossip=PushPullConfig(period_s=0.5),
                   failures=FailuresConfig(), seed=0)
    empty = [t for t in res.recorder.transfers() if t["bytes"] == 0]
    assert empty and {t["outcome"] for t in empty} == {"delivered"}
    assert any(t["outcome"] == "lost" for t in res.recorder.transfers())  # the link does lose what has bytes
