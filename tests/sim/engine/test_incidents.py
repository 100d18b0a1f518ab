"""Incidents carry structured fields (edges, cause, bank kept or wiped), kept by the recorder
whether or not anyone observes the run."""

import networkx as nx

from sim.recorder import INCIDENTS
from sim.workload import synthetic_workload


def run(sim_run, graph, failures, observer=None):
    """One 1,000 B task of 10 MACs per agent at 10 MACs/s: each agent learns its task in 1 s."""
    work = synthetic_workload(graph.number_of_nodes(), 1, macs=10, nbytes=1000)
    return sim_run(graph, work, failures=failures, seed=5, observer=observer)


def test_scheduled_outages_and_partitions_name_their_edges_and_cause(sim_run, linked):
    failures = {"links": {"scheduled": [{"edge": [3, 2], "start_s": 0.5, "end_s": 1.5}]},
                "partitions": [{"edges": [[0, 1], [5, 4]], "start_s": 0.25, "end_s": 2.0}]}
    res = run(sim_run, linked(nx.cycle_graph(6)), failures)
    got = [(e.time, e.kind, e.edges, e.cause, e.agent) for e in res.recorder.incidents]
    assert got == [
        (0.25, "link_down", ((0, 1), (4, 5)), "partition", None),
        (0.5, "link_down", ((2, 3),), "scheduled", None),
        (1.5, "link_up", ((2, 3),), "scheduled", None),
        (2.0, "link_up", ((0, 1), (4, 5)), "partition", None),
    ]


def test_crashes_and_recoveries_say_whether_the_bank_survives(sim_run, linked):
    failures = {"agents": {"scheduled": [
        {"agent": 1, "at_s": 0.5, "recover_at_s": 3.0},
        {"agent": 2, "at_s": 0.5, "recover_at_s": 3.0, "keep_bank": False},
        {"agent": 4, "at_s": 0.75},
    ]}}
    seen = []
    res = run(sim_run, linked(nx.cycle_graph(5)), failures, observer=seen.append)
    got = sorted((e.time, e.kind, e.agent, e.keep_bank) for e in res.recorder.incidents)
    assert got == [(0.5, "crashed", 1, True), (0.5, "crashed", 2, False), (0.75, "crashed", 4, None),
                   (3.0, "recovered", 1, True), (3.0, "recovered", 2, False)]
    assert [e for e in seen if e.kind in INCIDENTS] == res.recorder.incidents  # observers see the same


def test_random_link_failures_emit_down_and_up_events_in_pairs(sim_run, linked):
    failures = {"links": {"random": {"mtbf_s": 0.5, "mttr_s": 0.2}}}
    res = run(sim_run, linked(nx.cycle_graph(8), bw=2e3), failures)
    events = res.recorder.incidents
    assert events and {e.cause for e in events} == {"random"}
    assert all(len(e.edges) == 1 and e.edges[0][0] < e.edges[0][1] for e in events)
    assert [e.time for e in events] == sorted(e.time for e in events)
    for edge in {e.edges for e in events}:  # per link: down, up, down, up, ... (the last may stay down)
        kinds = [e.kind for e in events if e.edges == edge]
        assert kinds == ["link_down", "link_up"] * (len(kinds) // 2) + ["link_down"] * (len(kinds) % 2)


def test_a_run_without_failures_has_no_incidents(sim_run, linked):
    assert run(sim_run, linked(nx.path_graph(3)), None).recorder.incidents == []
