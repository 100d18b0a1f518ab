"""`simulate`'s settings (network, gossip, failures as configs or dicts): a bad one raises
ScenarioError with the lines the command line prints for the same field of a scenario file."""

from __future__ import annotations

import networkx as nx
import pytest

from sim import FloodConfig, NetworkConfig, PushPullConfig, ScenarioError, SimError, simulate, synthetic_workload
from sim.experiment.loading import validate_scenario

N = 4


def run(**settings):
    return simulate(nx.cycle_graph(N), synthetic_workload(N, 1, macs=1e9, nbytes=1e5), rates=[1e9] * N, **settings)


def scenario_lines(**sections) -> list[str]:
    """The problem lines `skill-sim validate` prints for a scenario holding these sections."""
    raw = {"workload": {"kind": "synthetic", "tasks": N, "teacher_macs": 1e9, "package_bytes": 1e5}, **sections}
    with pytest.raises(ScenarioError) as caught:
        validate_scenario(raw, "s.yaml")
    head, *lines = str(caught.value).split("\n  ")
    assert head == "s.yaml: invalid scenario:"
    return lines


CASES = {
    "typo in a key": ({"network": {"mod": "alpha"}},
                      "network.mod: unknown key. Did you mean 'mode'? Allowed here: downlink, loss_timeout_s, "
                      "max_retries, mode, reliable, serial_receive, sharing, streams, uplink"),
    "unknown protocol": ({"gossip": {"protocol": "flod"}},
                         "gossip.protocol = 'flod': unknown protocol. Did you mean 'flood'? "
                         "Allowed: 'broadcast', 'flood', 'push', 'push_pull'"),
    "a key of another protocol": ({"gossip": {"protocol": "flood", "fanout": 2}},
                                  "gossip.fanout: unknown key. Allowed here: protocol"),
    "a value out of range": ({"failures": {"agents": {"random": {"mtbf_s": -1}}}},
                             "failures.agents.random.mtbf_s = -1: Input should be greater than 0"),
    "a choice misspelled": ({"network": {"sharing": "maxmn"}},
                            "network.sharing = 'maxmn': Input should be 'maxmin' or 'fifo'. Did you mean 'maxmin'?"),
}


@pytest.mark.parametrize("sections, line", CASES.values(), ids=CASES.keys())
def test_a_bad_setting_reads_as_the_command_line_says_it(sections, line):
    with pytest.raises(ScenarioError) as caught:
        run(**sections)
    assert str(caught.value) == f"simulate(): invalid settings:\n  {line}"
    assert scenario_lines(**sections) == [line]  # the one formatter: the same line for a scenario file
    assert isinstance(caught.value, SimError)  # callers catching SimError still catch it


def test_every_problem_of_every_section_gets_its_line():
    with pytest.raises(ScenarioError) as caught:
        run(network={"mod": "alpha", "sharing": "maxmn"}, gossip={"protocol": "flod"})
    lines = str(caught.value).split("\n  ")[1:]
    assert sorted(line.split(":")[0].split(" =")[0] for line in lines) == ["gossip.protocol", "network.mod",
                                                                           "network.sharing"]


def test_configs_dicts_and_defaults_are_taken_alike():
    by_dicts = run(network={"mode": "alpha"}, gossip={"protocol": "push_pull"})
    by_configs = run(network=NetworkConfig(mode="alpha"), gossip=PushPullConfig())
    assert by_dicts.metrics.makespan_s == by_configs.metrics.makespan_s
    alpha = {"mode": "alpha"}
    assert run(network=alpha).metrics.makespan_s == run(network=alpha, gossip=FloodConfig()).metrics.makespan_s
