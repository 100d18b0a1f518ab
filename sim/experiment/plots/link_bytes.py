"""link_bytes.png: the topology with each link coloured (and widened) by the bytes sent on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from sim.experiment.naming import titled
from sim.experiment.plots.drawing import colourbar, graph_figure, integer_nodes, layout, node_size, save, short
from sim.experiment.plots.links import Edge, edge_key


def draw(path: Path, graph: nx.Graph, data: dict[str, Any], per_link: dict[Edge, float],
         pos: dict[int, Any] | None = None) -> None:
    """Draw bytes sent per link, both directions together (retransmissions and digests included)."""
    save(figure(graph, data, per_link, pos), path)


def figure(graph: nx.Graph, data: dict[str, Any], per_link: dict[Edge, float],
           pos: dict[int, Any] | None = None) -> Any:
    """The bytes-per-link figure."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D

    g = integer_nodes(graph)
    n = g.number_of_nodes()
    pos = pos or layout(g, data.get("topology"))
    edges = [edge_key(u, v) for u, v in g.edges]
    used = [e for e in edges if per_link.get(e, 0.0) > 0]
    idle = [e for e in edges if per_link.get(e, 0.0) <= 0]
    fig, ax, slots = graph_figure()
    handles: list[Any] = []
    base = 1.5 if n <= 60 else (0.9 if n <= 500 else 0.5)
    if idle:
        nx.draw_networkx_edges(g, pos, edgelist=idle, ax=ax, width=0.6 * base, edge_color="0.75", style="dotted")
        handles.append(Line2D([], [], color="0.75", ls=":", label=f"no bytes ({len(idle)} links)"))
    if used:
        values = [per_link[e] for e in used]
        lo, hi = min(values), max(values)
        norm = LogNorm(lo, hi if hi > lo else lo * 1.0001)
        widths = (base * (1 + 2 * np.clip(norm(np.asarray(values)), 0, 1))).tolist()  # one call: norm is slow per value
        lines = nx.draw_networkx_edges(g, pos, edgelist=used, ax=ax, width=widths, edge_color=values,
                                       edge_cmap=plt.cm.plasma, edge_vmin=lo, edge_vmax=norm.vmax)
        lines.set_norm(norm)
        colourbar(fig, slots[0], norm, plt.cm.plasma, "bytes sent on the link (both ways)")
        handles.append(Line2D([], [], color="0.3", lw=base * 3, label=f"busiest link {short(hi)} B"))
    if n <= 500:  # beyond that the nodes would hide the links, which are what this figure shows
        nx.draw_networkx_nodes(g, pos, node_color="0.35", node_size=node_size(n) * 0.6, ax=ax)
    if n <= 60:
        nx.draw_networkx_labels(g, pos, font_size=6 if n <= 24 else 4, font_color="white", ax=ax)
    total = sum(per_link.values())
    ax.set_title(f"{titled(data)}: bytes per link (total {short(total)} B, α={data['alpha']:g})")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, framealpha=0.9)
    ax.axis("off")
    return fig
