"""topology.png: the agents' graph with crashed agents and cut links marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx


def draw(path: Path, graph: nx.Graph, data: dict[str, Any]) -> None:
    """Draw the graph of one run, read back from its topology.graphml."""
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
