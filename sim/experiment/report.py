"""What a finished run shows and saves: the rich summary, run directories and PNG plots."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import networkx as nx
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.experiment import events_table, rundir
from sim.experiment import plots as figures
from sim.experiment import results as files
from sim.experiment.crossing import efficiency_crossing
from sim.experiment.naming import titled

TOPOLOGY_GRAPHML = files.GRAPHML


# ---------------------------------------------------------------- saving


def save_run(out: Path, prepared: Any, results: dict[str, Any], raw: Any = None, *, plots: bool = True,
             overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Write a self-describing run directory (results with a run id, the overrides that made it
    and the versions, resolved scenario, events of the raw SimResult, graph, plots, manifest)
    aside, then swap it in for `out` whole; return the results as saved."""
    sc = prepared.scenario
    run_id = uuid.uuid4().hex
    saved = {"run_id": run_id, **results, "overrides": list(overrides), "versions": files.versions()}
    with rundir.staged(out) as stage:
        files.write_scenario(stage / files.SCENARIO, sc.resolved())
        if raw is not None and sc.output.events_csv:
            sizes = {task.task_id: task.nbytes for task in prepared.workload.tasks}
            events_table.write_events(stage / files.EVENTS, raw, sizes)
        graph = prepared.graph.copy()
        alive = {p["agent"]: p["alive"] for p in saved["per_agent"]}
        for node in graph.nodes:
            graph.nodes[node]["alive"] = bool(alive.get(node, True))
        cut = {tuple(sorted(e)) for e in _scheduled_cuts(sc.failures)}
        for u, v in graph.edges:
            graph.edges[u, v]["outage"] = tuple(sorted((u, v))) in cut
        nx.write_graphml(graph, stage / TOPOLOGY_GRAPHML)
        files.write_json(stage / files.RESULTS, saved)
        if plots and sc.output.plots:
            render(stage, saved)
        rundir.write_manifest(stage, run_id)
    return saved


def _scheduled_cuts(failures: Any) -> list[tuple[int, int]]:
    """Edges that a scheduled link outage or a partition takes down at some point of the run."""
    edges = [tuple(o.edge) for o in failures.links.scheduled]
    edges += [tuple(e) for p in failures.partitions for e in p.edges]
    return edges


def save_sweep(out: Path, scenario: Any, runs: list[dict[str, Any]],
               overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """Write sweep.json / sweep.csv (one row per alpha, with the columns that join it to other
    sweeps and studies), the speedup-vs-alpha plot and the manifest into `out` (the sweep's
    staged folder: its alpha-* runs are already there)."""
    run_id = uuid.uuid4().hex
    rows = [{c: r.get(c) for c in files.SWEEP_COLUMNS} for r in runs]
    cross = efficiency_crossing(rows)
    sweep = {
        "run_id": run_id,
        "scenario": scenario.name,
        "overrides": list(overrides),
        "seed": scenario.seed,
        "agents": scenario.agents.count,
        "tasks": runs[0]["tasks"] if runs else 0,
        "topology": scenario.topology.family,
        "protocol": scenario.gossip.protocol,
        "rows": rows,
        # interpolated in log alpha between the two grid alphas of efficiency_half_between
        "efficiency_half_alpha": cross.alpha if cross else None,
        "efficiency_half_between": [cross.low, cross.high] if cross else None,
    }
    files.write_scenario(out / files.SCENARIO, scenario.resolved())
    keys = [sweep[k] for k in files.SWEEP_KEYS]  # the same on every row: what a join matches on
    files.write_csv(out / files.SWEEP_CSV, files.SWEEP_KEYS + files.SWEEP_COLUMNS,
                    (keys + [r[c] for c in files.SWEEP_COLUMNS] for r in rows))
    files.write_json(out / files.SWEEP_JSON, sweep)
    if scenario.output.plots:
        render(out, sweep)
    rundir.write_manifest(out, run_id)
    return sweep


# ---------------------------------------------------------------- plots


def render(out: Path, data: dict[str, Any], **options: Any) -> list[str]:
    """(Re)draw the PNG plots of a run or a sweep from its saved files (see sim.experiment.plots)."""
    return figures.render(out, data, **options)


# ---------------------------------------------------------------- terminal


def print_summary(console: Console, r: dict[str, Any], out: Path) -> None:
    """The final table of one run: time, speedup, cost, accuracy, resilience."""
    t = Table(title=f"skill-sim · {escape(titled(r))} · {r['agents']} agents · {r['tasks']} tasks · α={r['alpha']:g}",
              show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_column(style="dim")
    rows = [
        ("makespan", _num(r["makespan_s"], ",.2f") + " s",
         "simulated: until every survivor knows every surviving task" + _never(r)),
        ("single agent", f"{r['single_agent_s']:,.2f} s", "one agent learning all tasks alone"),
        ("speedup", f"{_num(r['speedup'], '.2f')}", f"efficiency {_num(r['efficiency'], '.3f')} (speedup / N); "
                                                     f"{_bound(r)} with free communication"),
        ("teacher MACs", f"{r['teacher_macs']:.3e}", _teacher(r)),
        ("student MACs", f"{r['student_macs']:.3e}", "merging received packages"),
        ("bytes sent", f"{r['bytes_sent']:.3e}", f"delivered {r['bytes_delivered']:.3e}, lost {r['bytes_lost']:.3e}"),
        ("alpha cost", f"{r['alpha_cost']:.3e}", "MACs + α × bytes sent"),
        *((("accuracy", _pct(r["accuracy"]), "mean over survivors, no task oracle"),
           ("mapper accuracy", _pct(r["mapper_accuracy"]), "test inputs routed to their own task"),
           ("oracle accuracy", _pct(r["oracle_accuracy"]), "with a perfect task oracle"))
          if "evaluation" not in r else (("evaluation", "—", r["evaluation"]),)),
        ("survivors", f"{sum(p['alive'] for p in r['per_agent'])} / {r['agents']}", _lost(r)),
        ("coverage", _pct(r["coverage_final"]), "agent-task pairs known among survivors"),
        ("package size", f"{r['learning']['package_bytes_mean'] / 1e3:,.1f} KB", "mean per task"),
    ]
    if r.get("accuracy_auc") is not None:  # runs with an `evaluation` section
        span = r["accuracy_over_time"]["auc_span_s"]
        rows.insert(rows.index(next(row for row in rows if row[0] == "survivors")),
                    ("accuracy AUC", _pct(r["accuracy_auc"]),
                     f"mean accuracy over {span[0]:,.3g}..{span[1]:,.3g} s, "
                     f"{len(r['accuracy_over_time']['checkpoints'])} checkpoints (accuracy.png)"))
    if "reuse" in r:  # co-simulated runs (learner.reuse.enabled)
        rows.insert(rows.index(next(row for row in rows if row[0] == "student MACs")), ("reuse", *_reuse(r["reuse"])))
    if "timing" in r:  # runs written before the timing mode was recorded lack it
        rows.append(("timing", r["timing"], _timing(r)))
    sim = r.get("simulation", {})
    if "engine" in sim:  # runs written before the engine was recorded lack it
        rows.append(("engine", sim["engine"], f"{sim.get('events', 0):,} events in {sim.get('wall_s', 0):.2f} s of wall time"))
    for row in rows:
        t.add_row(*row)
    console.print(t)
    if r.get("workload") not in (None, "learned") and "accounting" in r:
        console.print(_accounting(r))
    console.print(f"results in [bold]{escape(str(out))}[/]", soft_wrap=True, highlight=False)  # one line, however long


def _reuse(section: dict[str, Any]) -> tuple[str, str]:
    """The summary's reuse line: tasks reused of those learned, then what that saved."""
    saved = section["epochs_decoupled"] - section["epochs"]  # runs written before `epochs_saved` lack it
    return (f"{section['tasks_reused']} / {section['lessons']} tasks",
            f"{section['classes_matched']} classes matched by {section['match']}; "
            f"{saved:,} head epochs and {section['macs_saved']:.3e} counted MACs saved")


def _accounting(r: dict[str, Any]) -> Table:
    """The paper's per-agent cost accounting (Table 2's formula over the inputs) beside skill-sim's
    (the same formula over the simulated counts, and the simulated efficiency)."""
    paper, ours = r["accounting"]["paper"], r["accounting"]["skill_sim"]
    t = Table(title="cost per agent: the paper's accounting beside skill-sim's", title_justify="left")
    for col in ("", "paper's accounting", "skill-sim"):
        t.add_column(col, justify="right" if col else "left")
    t.add_row("teacher MACs", f"{paper['teacher_macs']:.4e}", f"{ours['teacher_macs']:.4e}")
    t.add_row("bytes per student", f"{paper['bytes_per_student']:.4e}", f"{ours['bytes_per_student']:.4e}")
    t.add_row("student MACs", f"{paper['student_macs']:.4e}", f"{ours['student_macs']:.4e}")
    t.add_row(f"total = teacher + α × bytes + student (α = {r['alpha']:g})", f"{paper['total_macs']:.4e}",
              f"{ours['total_macs']:.4e}")
    t.add_row("efficiency", _num(paper["efficiency"], ".8f"), _num(ours["efficiency"], ".8f") + " (simulated)")
    return t


def print_sweep(console: Console, sweep: dict[str, Any], out: Path) -> None:
    """One row per alpha, and where efficiency crosses 0.5. With knowledge reuse what is learned
    depends on alpha, so the tasks reused and the accuracy take the place of bytes sent (in sweep.csv)."""
    t = Table(title=f"skill-sim sweep · {escape(titled(sweep))} · {sweep['agents']} agents · {sweep['topology']}",
              title_justify="left")
    reuse = any(r.get("reuse_tasks") is not None for r in sweep["rows"])
    for col in ("α", "speedup", "efficiency", "makespan s", "alpha cost",
                *(("reused", "accuracy") if reuse else ("bytes sent",))):
        t.add_column(col, justify="right")
    for r in sorted(sweep["rows"], key=lambda r: r["alpha"]):
        last = (_num(r.get("reuse_tasks"), ",d"), _pct(r.get("accuracy"))) if reuse else (f"{r['bytes_sent']:.3e}",)
        t.add_row(f"{r['alpha']:g}", _num(r["speedup"], ".2f"), _num(r["efficiency"], ".3f"), _num(r["makespan_s"], ",.2f"),
                  f"{r['alpha_cost']:.3e}", *last)
    console.print(t)
    cross = efficiency_crossing(sweep["rows"])  # from the rows: a sweep.json of any age says where it is
    if cross is None:
        console.print("efficiency does not cross 0.5 within the grid")
    else:
        console.print(f"efficiency crosses 0.5 at α {cross.describe()}", highlight=False)
        if cross.hint():
            console.print(f"[dim]{cross.hint()}[/]", highlight=False)
    console.print(f"results in [bold]{escape(str(out))}[/]", soft_wrap=True, highlight=False)  # one line, however long


def print_listing(console: Console, what: str, items: dict[str, str], note: str | None = None) -> None:
    """A two-column table of names and descriptions, with an optional note under it."""
    t = Table(title=what, title_justify="left", caption=note, caption_justify="left")
    t.add_column("name", style="bold", no_wrap=True)
    t.add_column("description")
    for name, text in items.items():
        t.add_row(name, str(text))
    console.print(t)


LOST_LABELS = {"wiped": "wiped, not relearned", "holders_died": "every holder died", "never_learned": "never learned"}


def _lost(r: dict[str, Any]) -> str:
    """'tasks lost: N', and why, cause by cause (sim.metrics.LOST_CAUSES), where some are lost; then
    the (survivor, surviving task) pairs still missing, where some are."""
    causes = [f"{LOST_LABELS.get(c, c)} {n}" for c, n in r.get("tasks_lost_by_cause", {}).items() if n]
    missing = r.get("pairs_missing") or 0  # runs written before it was recorded lack it
    return (f"tasks lost: {r['tasks_lost']}" + (f" ({', '.join(causes)})" if causes else "")
            + (f"; {missing} survivor-task pair{'s' if missing != 1 else ''} missing" if missing else ""))


def _never(r: dict[str, Any]) -> str:
    """'' when the makespan was reached, else ' — never reached' and why, where the run recorded it."""
    if r["makespan_s"] is not None:
        return ""
    reason = r.get("never_reached")
    return " — never reached" + (f": {reason}" if reason else "")


def _bound(r: dict[str, Any]) -> str:
    """The speedup with free communication, or 'never' where the run cannot complete."""
    return "never" if r.get("speedup_bound_never") else _num(r.get("speedup_bound"), ".1f")


def _teacher(r: dict[str, Any]) -> str:
    """What teacher MACs count: backbone features, heads and anchors, with the features' share."""
    if r.get("workload") not in (None, "learned"):
        return f"given by the {r['workload']} workload (nothing learned)"
    phases = r.get("learning", {}).get("macs_by_phase", {})
    total = sum(phases.values())
    if not total or "features" not in phases:
        return "learning: backbone features, heads, biases and anchors"
    return f"learning: backbone features {100 * phases['features'] / total:.0f} %, then heads, biases and anchors"


def _timing(r: dict[str, Any]) -> str:
    """What compute time is: counted MACs / rate, or measured wall time and where it was measured."""
    wall = r.get("wall_timing")
    if r["timing"] != "wall" or not wall:
        return "compute time = counted MACs / rate"
    where = "; ".join(f"{m['host']} ({m['device']}, {m['torch_threads']} threads)" for m in wall["machines"])
    days = sorted({str(wall["measured_from"])[:10], str(wall["measured_to"])[:10]})
    return (f"measured on {where}, {' to '.join(days)}: {wall['tasks_learned_this_run']} tasks learned now, "
            f"{wall['tasks_learned_from_cache']} from the cache")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)
