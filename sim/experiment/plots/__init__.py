"""The PNG figures of a run directory or a sweep, one module per figure; `render` draws them all.

Every figure reads the directory's saved files (results.json or sweep.json, events.csv,
topology.graphml, scenario.yaml), so `skill-sim report DIR` redraws them; a figure whose input is
missing is skipped with a note. matplotlib is imported inside the drawing functions only:
importing this package costs nothing to `validate` or `list`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiment import results as files

COVERAGE_PNG = "coverage.png"
TOPOLOGY_PNG = "topology.png"
TIMELINE_PNG = "timeline.png"
LINK_BYTES_PNG = "link_bytes.png"
FULL_KNOWLEDGE_PNG = "full_knowledge.png"
SPEEDUP_PNG = "speedup_vs_alpha.png"
ACCURACY_PNG = "accuracy.png"  # only for runs with an `evaluation` section (accuracy_over_time)
RUN_FIGURES = (COVERAGE_PNG, TOPOLOGY_PNG, TIMELINE_PNG, LINK_BYTES_PNG, FULL_KNOWLEDGE_PNG)
SWEEP_FIGURES = (SPEEDUP_PNG,)


def render(out: Path, data: dict[str, Any], *, y_scale: str = "auto") -> list[str]:
    """(Re)draw the PNG plots of a run or a sweep from its saved files; returns notes on skipped
    figures. `y_scale` (auto | log | linear) is the speedup axis of a sweep."""
    import matplotlib

    matplotlib.use("Agg")
    from sim.experiment.plots import speedup

    if "rows" in data:
        speedup.draw(out / SPEEDUP_PNG, data, y_scale)
        return []
    return _render_run(out, data)


def _render_run(out: Path, data: dict[str, Any]) -> list[str]:
    """The per-run figures; each needs only some of the run's files."""
    import networkx as nx

    from sim.experiment.plots import accuracy, coverage, full_knowledge, link_bytes, timeline, topology
    from sim.experiment.plots.drawing import integer_nodes, layout
    from sim.experiment.plots.events import incidents_from_results, load_events
    from sim.experiment.plots.intervals import shown_agents, timeline as timeline_of
    from sim.experiment.plots.links import bytes_per_link, edge_bandwidths

    notes: list[str] = []
    own = {(p["agent"], t) for p in data.get("per_agent", []) for t in p.get("learns", [])}
    events, why = load_events(out, files.EVENTS, own)
    incidents = events.incidents if events is not None else incidents_from_results(data)
    curve = data.get("simulation", {}).get("coverage")
    if curve:
        coverage.draw(out / COVERAGE_PNG, curve, data, incidents)
    else:
        notes.append(f"{COVERAGE_PNG} skipped: results.json has no simulation.coverage")
    if data.get("accuracy_over_time"):
        accuracy.draw(out / ACCURACY_PNG, data, incidents)
    graph = integer_nodes(nx.read_graphml(out / files.GRAPHML)) if (out / files.GRAPHML).is_file() else None
    if graph is not None:
        pos = layout(graph, data.get("topology"))  # one layout: both graph figures place agents alike
        scenario = _scenario(out / files.SCENARIO)
        topology.draw(out / TOPOLOGY_PNG, graph, data, incidents,
                      edge_bandwidths(graph, scenario, data.get("alpha")), pos)
        per_link = bytes_per_link(data)
        if per_link is not None:
            link_bytes.draw(out / LINK_BYTES_PNG, graph, data, per_link, pos)
        else:
            notes.append(f"{LINK_BYTES_PNG} skipped: results.json has no simulation.bytes_per_link")
    else:
        notes.append(f"{TOPOLOGY_PNG} and {LINK_BYTES_PNG} skipped: no {files.GRAPHML}")
    if data.get("per_agent"):
        full_knowledge.draw(out / FULL_KNOWLEDGE_PNG, data)
    else:
        notes.append(f"{FULL_KNOWLEDGE_PNG} skipped: results.json has no per_agent entries")
    if events is None:
        notes.append(f"{TIMELINE_PNG} skipped: {why}")
    elif not all("learns" in p for p in data.get("per_agent", [])):
        notes.append(f"{TIMELINE_PNG} skipped: results.json per_agent has no `learns` lists")
    else:
        learns = {p["agent"]: list(p["learns"]) for p in data["per_agent"]}
        active = {a for a, _ in events.banked} | set(events.sending) | set(events.receiving)
        shown = shown_agents(len(learns), timeline.MAX_ROWS, first=incidents.crash_counts(), active=active)
        tl = timeline_of(events, learns, shown, data.get("makespan_s") or 0.0)
        timeline.draw(out / TIMELINE_PNG, tl, data)
    return notes


def _scenario(path: Path) -> dict[str, Any] | None:
    """The run's resolved scenario as a dict (for link bandwidths in alpha mode), None if unreadable."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text()) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return raw if isinstance(raw, dict) else None
