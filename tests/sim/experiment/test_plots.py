"""The figures of a run directory and a sweep, drawn from small hand-written files in the shared
events.csv / results.json layout; the intervals, counts and per-link numbers they draw are
checked against hand counts."""

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from sim.errors import SimError
from sim.experiment import plots
from sim.experiment.cli import main
from sim.experiment.plots import drawing, full_knowledge, intervals, links, speedup, topology
from sim.experiment.plots.events import incidents_from_results, read_events

ROOT = Path(__file__).resolve().parents[3]
HEADER = "time_s,kind,agent,peer,task,bytes,outcome,end_s,transfer,link_u,link_v"
# Three agents on a line 0 - 1 - 2. Agent 0 learns tasks 0 then 3, agent 1 task 1, agent 2 task 2.
# Flow 0 carries task 0 from 0 to 1; flow 1 is a digest (no task); flow 2 carries tasks 0 and 1
# (60 + 40 bytes) from 1 to 2; flow 3 (2 -> 1) is cut. Agent 2 is down 0.5-1.2 (bank wiped),
# agent 0 crashes at 5 for good; links 1-2 (3.2-4.0) and 0-1 (3.3-3.6) go down.
EVENTS = [
    "0.5,crashed,2,,,,bank wiped,,,,",
    "1.0,banked,0,,0,,,,,,",
    "1.0,transfer,0,1,0,100,delivered,2.0,0,,",
    "1.2,recovered,2,,,,bank wiped,,,,",
    "1.5,banked,1,,1,,,,,,",
    "1.5,transfer,0,1,,8,delivered,1.6,1,,",
    "2.0,banked,1,,0,,,,,,",
    "2.0,transfer,1,2,0,60,delivered,2.8,2,,",
    "2.0,transfer,1,2,1,40,delivered,2.8,2,,",
    "2.5,banked,0,,3,,,,,,",
    "2.8,banked,2,,0,,,,,,",
    "3.0,banked,2,,2,,,,,,",
    "3.0,transfer,2,1,2,100,cut,3.5,3,,",
    "3.2,link_down,,,,,random,,,1,2",
    "3.3,link_down,,,,,partition,,,0,1",
    "3.6,link_up,,,,,partition,,,0,1",
    "4.0,link_up,,,,,random,,,1,2",
    "5.0,crashed,0,,,,bank kept,,,,",
]
LEARNS = {0: [0, 3], 1: [1], 2: [2]}


def _results(**extra):
    per_agent = [
        {"agent": 0, "alive": False, "learns": [0, 3], "tasks_known": 2, "time_to_full_s": None},
        {"agent": 1, "alive": True, "learns": [1], "tasks_known": 3, "time_to_full_s": 3.5},
        {"agent": 2, "alive": True, "learns": [2], "tasks_known": 2, "time_to_full_s": None},
    ]
    listed = [{"time_s": 0.5, "kind": "crashed", "agent": 2, "edges": None, "detail": "bank wiped"},
              {"time_s": 1.2, "kind": "recovered", "agent": 2, "edges": None, "detail": "bank wiped"},
              {"time_s": 3.2, "kind": "link_down", "agent": None, "edges": [[1, 2]], "detail": "random"}]
    return {"scenario": "hand", "agents": 3, "tasks": 4, "alpha": 100.0, "topology": "line", "protocol": "flood",
            "makespan_s": None, "coverage_final": 5 / 8, "per_agent": per_agent,
            "incidents": {"total": 7, "by_kind": {"crashed": 2, "recovered": 1}, "listed": listed, "truncated": True},
            "simulation": {"coverage": [[0.0, 0.0], [1.5, 0.125], [2.0, 0.25], [3.0, 0.625]],
                           "bytes_per_link": {"0-1": 108.0, "1-2": 200.0}},
            **extra}


@pytest.fixture
def run_dir(tmp_path):
    """A run directory as a run writes it: results.json, events.csv, topology.graphml, scenario.yaml."""
    (tmp_path / "events.csv").write_text("\n".join([HEADER, *EVENTS]) + "\n")
    (tmp_path / "results.json").write_text(json.dumps(_results()))
    (tmp_path / "scenario.yaml").write_text("network: {mode: explicit}\n")
    g = nx.path_graph(3)
    nx.set_edge_attributes(g, {(0, 1): 1e5, (1, 2): 1e8}, "bandwidth")
    nx.set_edge_attributes(g, {(0, 1): False, (1, 2): True}, "outage")
    nx.set_node_attributes(g, {0: False, 1: True, 2: True}, "alive")
    nx.write_graphml(g, tmp_path / "topology.graphml")
    return tmp_path


def _is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_events_are_read_by_kind_with_first_bankings_and_link_edges(run_dir):
    ev = read_events(run_dir / "events.csv")
    assert ev.transfer_rows == 5  # five rows: flow 2 has two
    # the digest (1.5-1.6) lies inside flow 0 (1.0-2.0); flow 2's two rows are one span
    assert ev.sending == {0: [[1.0, 2.0]], 1: [[2.0, 2.8]], 2: [[3.0, 3.5]]}
    assert ev.receiving == {1: [[1.0, 2.0], [3.0, 3.5]], 2: [[2.0, 2.8]]}
    assert ev.banked[(2, 2)] == 3.0 and ev.banked[(1, 0)] == 2.0 and len(ev.banked) == 6
    own = read_events(run_dir / "events.csv", own={(0, 0), (0, 3), (1, 1), (2, 2)})
    assert own.banked == {(0, 0): 1.0, (1, 1): 1.5, (0, 3): 2.5, (2, 2): 3.0}  # receipts not kept
    inc = ev.incidents
    assert inc.crashed == [(0.5, 2), (5.0, 0)] and inc.recovered == [(1.2, 2)]
    assert inc.link_down == [(3.2, (1, 2)), (3.3, (0, 1))] and inc.link_up == [(3.6, (0, 1)), (4.0, (1, 2))]
    assert inc.crash_counts() == {2: 1, 0: 1} and inc.cut_edges() == {(0, 1), (1, 2)}
    assert ev.horizon_s == 5.0


def test_gantt_lanes_match_a_hand_count(run_dir):
    ev = read_events(run_dir / "events.csv")
    tl = intervals.timeline(ev, LEARNS, [0, 1, 2], horizon_s=6.0)
    # agent 0: task 0 from 0 to its banking at 1.0, task 3 from there to 2.5; agent 2 learns from
    # its recovery at 1.2 to 3.0
    assert tl.lanes["learning"] == {0: [(0.0, 1.0), (1.0, 2.5)], 1: [(0.0, 1.5)], 2: [(1.2, 3.0)]}
    assert tl.lanes["sending"] == {0: [(1.0, 2.0)], 1: [(2.0, 2.8)], 2: [(3.0, 3.5)]}
    assert tl.lanes["receiving"] == {0: [], 1: [(1.0, 2.0), (3.0, 3.5)], 2: [(2.0, 2.8)]}
    assert tl.lanes["down"] == {0: [(5.0, 6.0)], 1: [], 2: [(0.5, 1.2)]}
    # agent 2's crash at 0.5 cut its learning of task 2 short (from 0); agent 0 crashes after its last task
    assert tl.lanes["interrupted"] == {0: [], 1: [], 2: [(0.0, 0.5)]}
    assert tl.horizon_s == 6.0


def test_learning_stops_at_a_task_never_banked_and_restarts_after_a_recovery():
    banked = {(0, 5): 2.0, (0, 7): 9.0}
    got = intervals.learning_intervals({0: [5, 6, 7]}, banked, [(4.0, 0)])
    assert got == {0: [(0.0, 2.0)]}  # task 6 never finished: 7's banking at 9 is a receipt
    got = intervals.learning_intervals({0: [5, 7]}, banked, [(4.0, 0), (10.0, 0)])
    assert got == {0: [(0.0, 2.0), (4.0, 9.0)]}  # restarts at the recovery at 4 (not 10: after)


def test_outage_spans_down_counts_and_merging(run_dir):
    inc = read_events(run_dir / "events.csv").incidents
    assert intervals.outage_spans(inc, 10.0) == [(3.2, 4.0)]
    assert intervals.agents_down(inc) == [(0.0, 0), (0.5, 1), (1.2, 0), (5.0, 1)]
    assert intervals.merge([(3, 4), (0, 1), (1, 2), (0.5, 0.7)]) == [(0, 2), (3, 4)]
    inc.link_up.clear()  # a link that never comes back stays down to the horizon
    assert intervals.outage_spans(inc, 10.0) == [(3.2, 10.0)]


def test_an_older_events_file_without_link_columns_still_reads(tmp_path):
    old = ["time_s,kind,agent,peer,task,bytes,outcome,end_s",
           "0.0,link_down,,,,,outage [(1, 2)],", "1.0,banked,0,,0,,,",
           "1.0,transfer,0,1,0;3,200.0,delivered,2.0", "2.0,link_up,,,,,outage [(1, 2)],"]
    (tmp_path / "events.csv").write_text("\n".join(old) + "\n")
    ev = read_events(tmp_path / "events.csv")
    assert ev.transfer_rows == 1 and ev.banked == {(0, 0): 1.0}
    assert ev.incidents.link_down == [(0.0, None)] and ev.incidents.cut_edges() == set()
    assert intervals.outage_spans(ev.incidents, 5.0) == [(0.0, 2.0)]  # counted, edges unknown


def test_incidents_fall_back_to_results_json_and_say_when_truncated():
    inc = incidents_from_results(_results())
    assert inc.crashed == [(0.5, 2)] and inc.recovered == [(1.2, 2)] and inc.link_down == [(3.2, (1, 2))]
    assert not inc.complete
    old = incidents_from_results({"incidents": [{"time_s": 1.0, "kind": "crashed", "agent": 3, "detail": ""}]})
    assert old.crashed == [(1.0, 3)] and old.complete


def test_topology_marks_every_crashed_agent_and_every_cut_link(run_dir):
    g = nx.read_graphml(run_dir / "topology.graphml")
    inc = read_events(run_dir / "events.csv").incidents
    states = topology.agent_states(g, _results(), inc.crash_counts())
    assert states == {"never": [1], "recovered": [2], "dead": [0]}
    assert topology.cut_edges(g, inc) == {(0, 1), (1, 2)}


def test_link_numbers_bandwidth_in_both_modes_and_bytes():
    g = nx.path_graph(3)
    nx.set_edge_attributes(g, {(0, 1): 1e5, (1, 2): 1e8}, "bandwidth")
    assert links.edge_bandwidths(g, {"network": {"mode": "explicit"}}, 100.0) == {(0, 1): 1e5, (1, 2): 1e8}
    # alpha mode: min(rates of the two ends) / alpha; agent 2 is ten times slower
    scenario = {"network": {"mode": "alpha"},
                "agents": {"count": 3, "rate_macs_per_s": 1e9, "overrides": [{"agent": 2, "rate_macs_per_s": 1e8}]}}
    assert links.edge_bandwidths(g, scenario, 100.0) == {(0, 1): 1e7, (1, 2): 1e6}
    assert links.bytes_per_link(_results()) == {(0, 1): 108.0, (1, 2): 200.0}
    assert links.bytes_per_link({"simulation": {}}) is None


def test_time_to_full_knowledge_separates_the_agents_that_never_reach_it():
    reached, never, dead = full_knowledge.full_times(_results())
    assert reached == [(1, 3.5)] and never == [2] and dead == [0]


def test_speedup_axis_choice_and_the_crossing_label():
    rows = [{"alpha": 10, "speedup": 3.9}, {"alpha": 1e3, "speedup": 2.0}]
    assert speedup.y_scale(rows, 4) == "linear"
    assert speedup.y_scale(rows + [{"alpha": 1e5, "speedup": 0.01}], 4) == "log"  # 0.01 < N / 100
    assert speedup.y_scale(rows, 4, "log") == "log"
    with pytest.raises(SimError, match="auto, log, linear"):
        speedup.y_scale(rows, 4, "loglog")
    assert [drawing.short(x) for x in (2400.0, 0.5, 51, 1e5, 9.96e3)] == ["2.4e3", "0.5", "51", "1e5", "1e4"]


def test_a_run_directory_gets_every_figure(run_dir):
    assert plots.render(run_dir, _results()) == []
    for name in plots.RUN_FIGURES:
        assert _is_png(run_dir / name), name


def test_without_events_csv_the_timeline_is_skipped_with_a_note(run_dir):
    (run_dir / "events.csv").unlink()
    notes = plots.render(run_dir, _results())
    assert len(notes) == 1 and "timeline.png skipped" in notes[0] and "events.csv" in notes[0]
    assert not (run_dir / "timeline.png").exists()
    for name in set(plots.RUN_FIGURES) - {"timeline.png"}:
        assert _is_png(run_dir / name), name


def test_many_agents_are_subsampled_in_the_gantt():
    shown = intervals.shown_agents(500, 60)
    assert len(shown) == 60 and shown[0] == 0 and shown[-1] == 499 and shown == sorted(set(shown))
    assert intervals.shown_agents(40, 60) == list(range(40))
    # crashed agents are always shown (up to half the rows), the rest spread over the ids
    shown = intervals.shown_agents(500, 60, first=[3, 7, 250])
    assert len(shown) == 60 and {3, 7, 250, 0, 499} <= set(shown)
    assert len(intervals.shown_agents(500, 10, first=range(100, 200))) == 10
    assert set(range(100, 105)) <= set(intervals.shown_agents(500, 10, first=range(100, 200)))


def _sweep_dir(tmp_path):
    rows = [{"alpha": a, "speedup": s, "efficiency": s / 4, "makespan_s": 1.0, "alpha_cost": 1.0, "bytes_sent": 1.0,
             "speedup_bound": 3.9} for a, s in ((10, 3.8), (1e3, 2.5), (1e5, 0.2))]
    sweep = {"scenario": "hand", "seed": 0, "agents": 4, "tasks": 8, "topology": "ring", "protocol": "flood",
             "rows": rows, "efficiency_half_alpha": 2.4e3}
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    return tmp_path


@pytest.mark.parametrize("scale", ["auto", "log", "linear"])
def test_report_redraws_a_sweep_with_the_chosen_axis(tmp_path, scale, capsys):
    out = _sweep_dir(tmp_path)
    assert main(["report", str(out), "--y-scale", scale, "--quiet"]) == 0
    assert _is_png(out / "speedup_vs_alpha.png")


def test_the_command_line_does_not_import_matplotlib_until_it_draws():
    code = ("import sys; import sim.experiment.cli, sim.experiment.report, sim.experiment.plots; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_busy_spans_are_a_true_union_even_when_rows_come_out_of_order(tmp_path):
    rows = [HEADER, "2.0,transfer,0,1,0,1,delivered,3.0,0,,", "0.0,transfer,0,1,1,1,delivered,1.0,1,,",
            "0.5,transfer,0,1,2,1,delivered,2.5,2,,", "4.0,transfer,0,1,3,1,delivered,5.0,3,,"]
    (tmp_path / "events.csv").write_text("\n".join(rows) + "\n")
    tl = intervals.timeline(read_events(tmp_path / "events.csv"), {0: [], 1: []}, [0, 1], horizon_s=5.0)
    assert tl.lanes["sending"][0] == [(0.0, 3.0), (4.0, 5.0)] == tl.lanes["receiving"][1]


def test_a_sweep_written_before_speedup_bound_still_draws(tmp_path):
    out = _sweep_dir(tmp_path)
    sweep = json.loads((out / "sweep.json").read_text())
    for row in sweep["rows"]:
        del row["speedup_bound"]
    sweep["efficiency_half_alpha"] = None
    assert plots.render(out, sweep, y_scale="log") == []
    assert _is_png(out / "speedup_vs_alpha.png")


@pytest.mark.parametrize("scale", ["log", "linear"])
def test_the_half_n_marker_sits_on_the_drawn_speedup_line(tmp_path, scale):
    import numpy as np

    sweep = json.loads((_sweep_dir(tmp_path) / "sweep.json").read_text())
    # efficiency 0.625 at 1e3, 0.05 at 1e5: 0.5 is crossed 0.125 / 0.575 of the way in log alpha,
    # where the speedup (linear in log alpha, 2.5 -> 0.2) is 2.5 - 2.3 * 0.125 / 0.575 = 2.0 = N / 2
    sweep["efficiency_half_alpha"] = 10 ** (3 + 2 * 0.125 / 0.575)
    fig = speedup.figure(sweep, scale)
    ax = fig.axes[0]
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "speedup")
    marker = next(ln for ln in ax.get_lines() if ln.get_label().startswith("0.5 N at"))
    (mx, my), = ax.transData.transform(np.column_stack(marker.get_data()))
    drawn = ax.transData.transform(np.column_stack(line.get_data()))  # straight between these, on screen
    assert marker.get_ydata()[0] == 2.0
    assert np.interp(mx, drawn[:, 0], drawn[:, 1]) == pytest.approx(my, abs=0.5)  # within half a pixel
    xs, ys = line.get_data()
    assert ys[list(xs).index(sweep["efficiency_half_alpha"])] == pytest.approx(2.0)


def test_a_densified_segment_is_linear_in_log_alpha():
    xs, ys = speedup.densified([(10.0, 4.0), (1000.0, 2.0)], [100.0], per_segment=4)
    # the grid 10, 10^1.5, 100 (twice: grid and extra), 10^2.5, then the end point
    assert xs[0] == 10.0 and xs[-1] == 1000.0 and ys[-1] == 2.0
    assert ys[xs.index(100.0)] == pytest.approx(3.0)


def test_the_link_bytes_colour_bar_has_a_few_short_tick_labels():
    from sim.experiment.plots import link_bytes

    # ring_51_failures' range: 6.8e6 to 3.1e7 B, inside one power of ten; 4 steps of (hi / lo) ** (1 / 3) ≈ 1.66
    assert drawing.log_ticks(6.78e6, 3.13e7) == [6.8e6, 1.1e7, 1.9e7, 3.1e7]
    assert drawing.log_ticks(5.0, 5e5) == [10.0, 100.0, 1e3, 1e4, 1e5][::2]  # 5 decades: every 2nd
    g = nx.path_graph(3)
    fig = link_bytes.figure(g, _results(), {(0, 1): 6.78e6, (1, 2): 3.13e7})
    fig.canvas.draw()
    bar = fig.axes[1]
    assert [t.get_text() for t in bar.get_xticklabels()] == ["6.8e6", "1.1e7", "1.9e7", "3.1e7"]
    assert bar.xaxis.get_minorticklabels() == [] or all(not t.get_text() for t in bar.xaxis.get_minorticklabels())


def test_under_churn_agents_down_is_a_separate_panel_below_the_coverage():
    from sim.experiment.plots import coverage
    from sim.experiment.plots.events import Incidents

    # 41 crashes (> 40 lines): agent i goes down at i + 1 for good, so i + 1 agents are down from then
    churn = Incidents(crashed=[(i + 1.0, i) for i in range(41)])
    fig = coverage.figure([[0.0, 0.0], [50.0, 0.5]], _results(), churn)
    top, below = fig.axes
    assert below.get_shared_x_axes().joined(top, below)
    assert below.get_position().height < top.get_position().height / 2
    assert [ln.get_label() for ln in top.get_lines() if not ln.get_label().startswith("final")] == ["coverage"]
    (down,) = below.get_lines()
    assert list(down.get_xdata()) == [0.0] + [i + 1.0 for i in range(41)] + [50.0]
    assert list(down.get_ydata()) == list(range(42)) + [41]
    few = coverage.figure([[0.0, 0.0], [50.0, 0.5]], _results(), Incidents(crashed=[(1.0, 0)]))
    assert len(few.axes) == 1  # a few crashes stay lines on the one panel


def test_learning_cut_short_by_a_crash_is_an_interrupted_span():
    # ring_51_failures: agent 30 banks its first task at 0.17 and dies at 0.5; agent 10 banks its
    # first at 0.17, crashes at 0.3, is back at 2.0 and banks its second at 2.5
    banked = {(30, 60): 0.17, (10, 20): 0.17, (10, 21): 2.5}
    done, cut = intervals.learning_spans({30: [60, 61], 10: [20, 21]}, banked, [(2.0, 10)], [(0.3, 10), (0.5, 30)])
    assert cut == {30: [(0.17, 0.5)], 10: [(0.17, 0.3)]}
    assert done == {30: [(0.0, 0.17)], 10: [(0.0, 0.17), (2.0, 2.5)]}
    # two crashes during one task, back up at 1 then 3, banked at 4; a crash at a banking cuts nothing
    done, cut = intervals.learning_spans({0: [0, 1]}, {(0, 0): 0.5, (0, 1): 4.0}, [(1.0, 0), (3.0, 0)],
                                         [(0.5, 0), (2.0, 0)])
    assert cut == {0: [(1.0, 2.0)]} and done == {0: [(0.0, 0.5), (3.0, 4.0)]}


def test_timeline_bars_sit_inside_their_agent_row_and_tasks_alternate_shades(run_dir):
    from sim.experiment.plots import timeline

    tl = intervals.timeline(read_events(run_dir / "events.csv"), LEARNS, [0, 1, 2], horizon_s=6.0)
    bars = timeline.bars(tl)
    rows = {0: 2, 1: 1, 2: 0}  # agent 0 on top: band [2, 3]
    for bar in bars:
        assert rows[bar.agent] <= bar.bottom < bar.bottom + bar.height <= rows[bar.agent] + 1, bar
    lanes = {lane: [b for b in bars if b.lane == lane] for lane in ("learning", "interrupted", "sending", "receiving")}
    # three lanes one above the other inside the row: learning on top, then sending, then receiving
    offset = {lane: (b[0].bottom - rows[b[0].agent], b[0].height) for lane, b in lanes.items()}
    assert offset["learning"][0] > sum(offset["sending"]) and offset["sending"][0] > sum(offset["receiving"])
    shades = [b.colour for b in lanes["learning"] if b.agent == 0]  # tasks 0 then 3 touch at 1.0
    assert len(shades) == 2 and shades[0] != shades[1]
    (cut,) = lanes["interrupted"]
    assert (cut.agent, cut.start, cut.end) == (2, 0.0, 0.5) and cut.colour not in shades
    fig = timeline.figure(tl, _results())
    hatched = [c for c in fig.axes[0].collections if c.get_gid() == "interrupted:2"]
    assert len(hatched) == 1 and hatched[0].get_hatch() == "////"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["0", "1", "2"]
    assert list(fig.axes[0].get_yticks()) == [2.5, 1.5, 0.5]  # labels centred in their bands


def test_subsampling_prefers_active_agents_over_idle_ones():
    # 80 agents, 10 rows; agent 3 crashed; agents 0-19 active, the rest idle: 3, then 9 of the 19 other active
    shown = intervals.shown_agents(80, 10, first=[3], active=range(20))
    others = [a for a in range(20) if a != 3]  # 19 ids; 9 evenly: indices round(i * 18 / 8)
    assert shown == sorted([3] + [others[round(i * 18 / 8)] for i in range(9)])
    assert all(a < 20 for a in shown)
    # fewer active agents than rows: all of them, then idle ones spread over the rest
    shown = intervals.shown_agents(80, 10, active=[5, 40])
    assert {5, 40} <= set(shown) and len(shown) == 10 and len(set(shown)) == 10


def test_accuracy_png_is_drawn_only_for_runs_with_checkpoints(run_dir):
    plots.render(run_dir, _results())
    assert not (run_dir / plots.ACCURACY_PNG).exists()
    data = _results()
    data["accuracy"] = 0.5
    data["accuracy_over_time"] = {
        "agents": "all", "auc": 0.2, "auc_span_s": [0.0, 4.0],
        "checkpoints": [{"time_s": t, "mean": m, "min": m, "max": m, "up": 3} for t, m in ((0.0, 0.0), (2.0, 0.3), (4.0, 0.5))],
        "per_agent": {"0": [0.0, 0.3, 0.5], "1": [0.0, None, 0.5], "2": [0.0, 0.3, 0.5]},
    }
    assert plots.render(run_dir, data) == []
    assert _is_png(run_dir / plots.ACCURACY_PNG)
