"""What a finished run shows and saves: the rich summary, run directories and PNG plots."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import networkx as nx
from rich.console import Console
from rich.table import Table

from sim.experiment import events_table, rundir
from sim.experiment import results as files

COVERAGE_PNG = "coverage.png"
TOPOLOGY_PNG = "topology.png"
TOPOLOGY_GRAPHML = "topology.graphml"
SPEEDUP_PNG = "speedup_vs_alpha.png"


# ---------------------------------------------------------------- saving


def save_run(out: Path, prepared: Any, results: dict[str, Any], raw: Any = None, *, plots: bool = True) -> dict[str, Any]:
    """Write a self-describing run directory (results with a run id and the versions, resolved
    scenario, events of the raw SimResult, graph, plots, manifest) aside, then swap it in for
    `out` whole; return the results as saved."""
    sc = prepared.scenario
    run_id = uuid.uuid4().hex
    saved = {"run_id": run_id, **results, "versions": files.versions()}
    with rundir.staged(out) as stage:
        files.write_scenario(stage / files.SCENARIO, sc.model_dump(mode="json"))
        if raw is not None and sc.output.events_csv:
            sizes = {tid: len(r.package) for tid, r in prepared.learned.items()}
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


def save_sweep(out: Path, scenario: Any, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Write sweep.json / sweep.csv (one row per alpha), the speedup-vs-alpha plot and the
    manifest into `out` (the sweep's staged folder: its alpha-* runs are already there)."""
    run_id = uuid.uuid4().hex
    rows = [{c: r[c] for c in files.SWEEP_COLUMNS} for r in runs]
    sweep = {
        "run_id": run_id,
        "scenario": scenario.name,
        "seed": scenario.seed,
        "agents": scenario.agents.count,
        "tasks": runs[0]["tasks"] if runs else 0,
        "topology": scenario.topology.family,
        "protocol": scenario.gossip.protocol,
        "rows": rows,
        "efficiency_half_alpha": crossing_alpha(rows, 0.5),
    }
    files.write_scenario(out / files.SCENARIO, scenario.model_dump(mode="json"))
    files.write_csv(out / files.SWEEP_CSV, files.SWEEP_COLUMNS, ([r[c] for c in files.SWEEP_COLUMNS] for r in rows))
    files.write_json(out / files.SWEEP_JSON, sweep)
    if scenario.output.plots:
        render(out, sweep)
    rundir.write_manifest(out, run_id)
    return sweep


def crossing_alpha(rows: list[dict[str, Any]], level: float) -> float | None:
    """Alpha at which efficiency falls through `level`, interpolated in log-alpha; None if never."""
    import math

    pts = sorted((r["alpha"], r["efficiency"]) for r in rows if r["efficiency"] is not None)
    for (a0, e0), (a1, e1) in zip(pts, pts[1:]):
        if e0 >= level > e1:
            frac = (e0 - level) / (e0 - e1)
            return float(10 ** (math.log10(a0) + frac * (math.log10(a1) - math.log10(a0))))
    return None


# ---------------------------------------------------------------- plots


def render(out: Path, data: dict[str, Any]) -> None:
    """(Re)draw the PNG plots of a run or a sweep from its saved files."""
    import matplotlib

    matplotlib.use("Agg")
    if "rows" in data:
        _plot_speedup(out / SPEEDUP_PNG, data)
        return
    coverage = data.get("simulation", {}).get("coverage")
    if coverage:
        _plot_coverage(out / COVERAGE_PNG, coverage, data)
    if (out / TOPOLOGY_GRAPHML).is_file():
        _plot_topology(out / TOPOLOGY_PNG, nx.read_graphml(out / TOPOLOGY_GRAPHML), data)


def _plot_coverage(path: Path, coverage: list[list[float]], data: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    times = [c[0] for c in coverage]
    fracs = [c[1] for c in coverage]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.step(times, fracs, where="post")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("fraction of agent-task pairs known")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{data['scenario']}: coverage over time (α={data['alpha']:g})")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_topology(path: Path, graph: nx.Graph, data: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    n = graph.number_of_nodes()
    circular = n <= 2 or data.get("topology") in ("ring", "full", "line")
    pos = nx.circular_layout(graph) if circular else nx.spring_layout(graph, seed=0)
    dead = [v for v, a in graph.nodes(data=True) if str(a.get("alive", True)) in ("False", "false")]
    alive = [v for v in graph.nodes if v not in dead]
    cut = [(u, v) for u, v, a in graph.edges(data=True) if str(a.get("outage", False)) in ("True", "true")]
    fig, ax = plt.subplots(figsize=(6, 6))
    nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.4, width=0.8)
    if cut:
        nx.draw_networkx_edges(graph, pos, edgelist=cut, ax=ax, edge_color="tab:red", style="dashed", width=2.5,
                               label="link outage / partition")
    size = 300 if n <= 24 else (140 if n <= 60 else 30)
    nx.draw_networkx_nodes(graph, pos, nodelist=alive, node_color="tab:blue", node_size=size, ax=ax, label="alive")
    if dead:
        nx.draw_networkx_nodes(graph, pos, nodelist=dead, node_color="tab:red", node_shape="X", node_size=size, ax=ax,
                               label="crashed")
    if n <= 60:
        nx.draw_networkx_labels(graph, pos, font_size=7 if n <= 24 else 5, font_color="white", ax=ax)
    ax.set_title(f"{data['scenario']}: {data.get('topology', '')}, {n} agents")
    ax.legend(loc="center" if circular else "best", framealpha=0.9)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_speedup(path: Path, sweep: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    rows = sorted(sweep["rows"], key=lambda r: r["alpha"])
    n = sweep["agents"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([r["alpha"] for r in rows], [r["speedup"] for r in rows], "o-", label="speedup")
    ax.axhline(n, color="tab:green", ls="--", label=f"N = {n}")
    ax.axhline(n / 2, color="tab:orange", ls=":", label=f"0.5 N = {n / 2:g}")
    ax.set_xscale("log")
    speedups = [r["speedup"] for r in rows if r["speedup"]]
    if speedups and min(speedups) < n / 100:  # a wide range: a log axis keeps the tail readable
        ax.set_yscale("log")
    ax.set_xlabel("α (MACs per byte)")
    ax.set_ylabel("speedup (single agent / makespan)")
    ax.set_title(f"{sweep['scenario']}: speedup vs α ({sweep['topology']}, {sweep['protocol']})")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------- terminal


def print_summary(console: Console, r: dict[str, Any], out: Path) -> None:
    """The final table of one run: time, speedup, cost, accuracy, resilience."""
    t = Table(title=f"skill-sim · {r['scenario']} · {r['agents']} agents · {r['tasks']} tasks · α={r['alpha']:g}",
              show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column(justify="right")
    t.add_column(style="dim")
    rows = [
        ("makespan", _num(r["makespan_s"], ",.2f") + " s",
         "simulated: until every survivor knows every surviving task" + ("" if r["makespan_s"] is not None
                                                                          else " — never reached")),
        ("single agent", f"{r['single_agent_s']:,.2f} s", "one agent learning all tasks alone"),
        ("speedup", f"{_num(r['speedup'], '.2f')}", f"efficiency {_num(r['efficiency'], '.3f')} (speedup / N); "
                                                     f"{_num(r.get('speedup_bound'), '.1f')} with free communication"),
        ("teacher MACs", f"{r['teacher_macs']:.3e}", "learning heads, biases and anchors"),
        ("student MACs", f"{r['student_macs']:.3e}", "merging received packages"),
        ("bytes sent", f"{r['bytes_sent']:.3e}", f"delivered {r['bytes_delivered']:.3e}, lost {r['bytes_lost']:.3e}"),
        ("alpha cost", f"{r['alpha_cost']:.3e}", "MACs + α × bytes sent"),
        ("accuracy", _pct(r["accuracy"]), "mean over survivors, no task oracle"),
        ("mapper accuracy", _pct(r["mapper_accuracy"]), "test inputs routed to their own task"),
        ("oracle accuracy", _pct(r["oracle_accuracy"]), "with a perfect task oracle"),
        ("survivors", f"{sum(p['alive'] for p in r['per_agent'])} / {r['agents']}", f"tasks lost: {r['tasks_lost']}"),
        ("coverage", _pct(r["coverage_final"]), "agent-task pairs known among survivors"),
        ("package size", f"{r['learning']['package_bytes_mean'] / 1e3:,.1f} KB", "mean per task"),
    ]
    sim = r.get("simulation", {})
    if "engine" in sim:  # runs written before the engine was recorded lack it
        rows.append(("engine", sim["engine"], f"{sim.get('events', 0):,} events in {sim.get('wall_s', 0):.2f} s of wall time"))
    for row in rows:
        t.add_row(*row)
    console.print(t)
    console.print(f"results in [bold]{out}[/]")


def print_sweep(console: Console, sweep: dict[str, Any], out: Path) -> None:
    """One row per alpha, and where efficiency crosses 0.5."""
    t = Table(title=f"skill-sim sweep · {sweep['scenario']} · {sweep['agents']} agents · {sweep['topology']}",
              title_justify="left")
    for col in ("α", "speedup", "efficiency", "makespan s", "alpha cost", "bytes sent"):
        t.add_column(col, justify="right")
    for r in sorted(sweep["rows"], key=lambda r: r["alpha"]):
        t.add_row(f"{r['alpha']:g}", _num(r["speedup"], ".2f"), _num(r["efficiency"], ".3f"), _num(r["makespan_s"], ",.2f"),
                  f"{r['alpha_cost']:.3e}", f"{r['bytes_sent']:.3e}")
    console.print(t)
    cross = sweep.get("efficiency_half_alpha")
    console.print("efficiency crosses 0.5 at α ≈ " + (f"{cross:.3g}" if cross else "— (not within the grid)"))
    console.print(f"results in [bold]{out}[/]")


def print_listing(console: Console, what: str, items: dict[str, str]) -> None:
    """A two-column table of names and descriptions."""
    t = Table(title=what, title_justify="left")
    t.add_column("name", style="bold")
    t.add_column("description")
    for name, text in items.items():
        t.add_row(name, str(text))
    console.print(t)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None, fmt: str) -> str:
    return "—" if x is None else format(x, fmt)
