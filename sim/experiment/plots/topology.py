"""topology.png: the agents' graph; edges coloured by bandwidth, links that went down drawn
thick, and every agent that crashed marked (recovered vs dead at the end, or by crash count)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from sim.experiment.naming import titled
from sim.experiment.plots.drawing import colourbar, graph_figure, integer_nodes, layout, node_size, save, short
from sim.experiment.plots.events import Incidents
from sim.experiment.plots.links import Edge, edge_key

OUTAGE_COLOUR = "crimson"


def agent_states(graph: nx.Graph, data: dict[str, Any], crashes: dict[int, int]) -> dict[str, list[int]]:
    """Agents by state: `never` crashed, crashed and `recovered` (alive at the end), `dead` at the end."""
    alive = {p["agent"]: bool(p["alive"]) for p in data.get("per_agent", [])}
    states: dict[str, list[int]] = {"never": [], "recovered": [], "dead": []}
    for node, attrs in graph.nodes(data=True):
        a = int(node)
        is_alive = alive.get(a, str(attrs.get("alive", True)).lower() != "false")
        states["dead" if not is_alive else ("recovered" if crashes.get(a) else "never")].append(a)
    return states


def cut_edges(graph: nx.Graph, incidents: Incidents) -> set[Edge]:
    """Links that went down at some point: marked in the GraphML (scheduled, partitions) or in the incidents."""
    marked = {edge_key(u, v) for u, v, a in graph.edges(data=True) if str(a.get("outage", False)).lower() == "true"}
    return marked | incidents.cut_edges()


def draw(path: Path, graph: nx.Graph, data: dict[str, Any], incidents: Incidents, bandwidth: dict[Edge, float],
         pos: dict[int, Any] | None = None) -> None:
    """Draw the graph of one run, read back from its topology.graphml (at `pos`, default its layout)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.lines import Line2D

    g = integer_nodes(graph)
    n = g.number_of_nodes()
    pos = pos or layout(g, data.get("topology"))
    crashes = incidents.crash_counts()
    states = agent_states(g, data, crashes)
    cut = cut_edges(g, incidents) & {edge_key(u, v) for u, v in g.edges}
    fig, ax, slots = graph_figure()
    handles: list[Any] = []
    edges = [edge_key(u, v) for u, v in g.edges]
    values = [bandwidth.get(e) for e in edges]
    known = [v for v in values if v]
    thin = 1.4 if n <= 60 else (0.8 if n <= 500 else 0.4)
    if cut:  # a wide halo under the link, so its bandwidth colour stays visible on top
        nx.draw_networkx_edges(g, pos, edgelist=sorted(cut), ax=ax, width=max(4.0, 5 * thin), edge_color=OUTAGE_COLOUR)
        handles.append(Line2D([], [], color=OUTAGE_COLOUR, lw=4, label=f"link down at some point ({len(cut)})"))
    if known and max(known) > min(known) * 1.0001:
        norm = LogNorm(min(known), max(known))
        lines = nx.draw_networkx_edges(g, pos, edgelist=edges, ax=ax, width=thin, edge_color=[v or min(known) for v in values],
                                       edge_cmap=plt.cm.viridis, edge_vmin=min(known), edge_vmax=max(known))
        lines.set_norm(norm)
        colourbar(fig, slots[0], norm, plt.cm.viridis, "link bandwidth (bytes/s)")
    else:
        nx.draw_networkx_edges(g, pos, edgelist=edges, ax=ax, width=thin, edge_color="0.55")
        text = f"every link {short(known[0])} bytes/s" if known else "links (no bandwidth recorded)"
        handles.append(Line2D([], [], color="0.55", lw=thin, label=text))
    size = node_size(n)
    if states["never"]:
        nx.draw_networkx_nodes(g, pos, nodelist=states["never"], node_color="tab:blue", node_size=size, ax=ax)
        handles.append(Line2D([], [], ls="", marker="o", color="tab:blue", label=f"never crashed ({len(states['never'])})"))
    many = max(crashes.values(), default=0) > 1
    norm = Normalize(1, max(crashes.values(), default=1))
    for state, shape, colour, text in (("recovered", "s", "tab:orange", "crashed, alive at the end"),
                                       ("dead", "X", "tab:red", "dead at the end")):
        nodes = states[state]
        if not nodes:
            continue
        colours = [plt.cm.autumn_r(norm(crashes.get(a, 1))) for a in nodes] if many else colour
        nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=colours, node_shape=shape,
                               node_size=size * (1.3 if shape == "X" else 1), ax=ax, edgecolors="black", linewidths=0.5)
        handles.append(Line2D([], [], ls="", marker=shape, color="0.4" if many else colour, markeredgecolor="black",
                              label=f"{text} ({len(nodes)})"))
    if many:
        colourbar(fig, slots[1], norm, plt.cm.autumn_r, "crashes per agent (crashed agents)")
    if n <= 60:
        nx.draw_networkx_labels(g, pos, font_size=7 if n <= 24 else 5, font_color="white", ax=ax)
    note = "" if incidents.complete else " (incidents: only those listed in results.json)"
    ax.set_title(f"{titled(data)}: {data.get('topology', '')}, {n} agents{note}")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, framealpha=0.9)
    ax.axis("off")
    save(fig, path)
