"""skill-sim's network against SimGrid: finish times of bench/simgrid_oracle.py's cases (the JSON it
wrote), every transfer its own connection (per_package), within 1e-9 relative."""

import json
from pathlib import Path

import numpy as np
import pytest
import simpy

from sim.config import NetworkConfig
from sim.engine.events import call_at
from sim.engine.network import Network
from sim.engine.host import Listener  # its methods do nothing: subclasses keep the events they record

CASES = json.loads((Path(__file__).parent / "oracle/simgrid_cases.json").read_text())["cases"]


class Ends(Listener):
    """A listener that records when each package's transfer ends."""

    def __init__(self, env):
        self.env, self.end = env, {}

    def flow_finished(self, flow, cut):
        assert not cut
        for i, arrival in zip(flow.ids_l, flow.arr_l):
            self.end[i] = arrival


def replay(case: dict, sharing: str = "maxmin") -> list[float]:
    """Run the case's transfers on skill-sim's network; the arrival time of each."""
    n = case["agents"]
    src, dst, bw, lat = [], [], [], []
    for u, v, b, l in case["edges"]:
        for a, c in ((u, v), (v, u)):
            src.append(a), dst.append(c), bw.append(b), lat.append(l)
    links = {"src": np.array(src), "dst": np.array(dst), "bandwidth": np.array(bw, dtype=float),
             "latency": np.array(lat, dtype=float), "loss": np.zeros(len(src))}
    nics = {"uplink": np.full(n, np.inf), "downlink": np.full(n, np.inf)}
    for name in nics:
        for agent, cap in case.get(name, {}).items():
            nics[name][int(agent)] = cap
    env = simpy.Environment()
    ends = Ends(env)
    config = NetworkConfig(streams="per_package", serial_receive=case.get("serial_receive", False), sharing=sharing)
    sizes = np.array([t[3] for t in case["transfers"]], dtype=np.int64)
    net = Network(env, n, links, config, sizes, 0, ends, nics)
    for k, (at, s, r, _) in enumerate(case["transfers"]):
        call_at(env, at, lambda _e, k=k, d=net.index[s, r]: net.send(d, [k]))
    env.run()
    return [ends.end[k] for k in range(len(sizes))]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_simgrid(name):
    case = CASES[name]
    assert replay(case) == pytest.approx(case["expected_end_s"], rel=1e-9, abs=1e-12)


def test_the_issue_numbers_are_in_the_oracle():
    """The figures issue 12 quotes from SimGrid, by hand."""
    assert CASES["issue_two_packages_one_edge"]["expected_end_s"] == [2.0, 2.0]
    assert CASES["issue_late_joiner"]["expected_end_s"] == [3.0, 3.0]
    assert CASES["issue_latency_then_downlink"]["expected_end_s"] == [2.0, 1.0]
