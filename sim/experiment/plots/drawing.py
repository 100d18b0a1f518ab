"""What the figures share: the graph layout, node sizes, number formats and saving."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx

CIRCULAR = ("ring", "full", "line")


def layout(graph: nx.Graph, family: str | None) -> dict[Any, tuple[float, float]]:
    """Node positions: a circle for rings and full graphs, a seeded spring layout otherwise."""
    n = graph.number_of_nodes()
    if n <= 2 or family in CIRCULAR:
        return nx.circular_layout(graph)
    return nx.spring_layout(graph, seed=0, iterations=50 if n <= 200 else (25 if n <= 2000 else 10))


def integer_nodes(graph: nx.Graph) -> nx.Graph:
    """The graph with integer node ids (GraphML reads them back as strings)."""
    return nx.relabel_nodes(graph, {v: int(v) for v in graph.nodes})


def node_size(n: int) -> float:
    """A marker size that keeps N nodes apart."""
    return 300 if n <= 24 else (140 if n <= 60 else (30 if n <= 500 else 6))


def short(x: float) -> str:
    """A number in 2 significant digits, exponent without '+' or leading zeros: 2.4e3, 0.5, 51."""
    if x == 0 or 1e-2 <= abs(x) < 1e3:
        return f"{x:.2g}"
    exp = math.floor(math.log10(abs(x)))
    mant = x / 10 ** exp
    if round(mant, 1) >= 10:
        mant, exp = mant / 10, exp + 1
    return f"{mant:.2g}e{exp}"


def graph_figure() -> tuple[Any, Any, list[Any]]:
    """A figure for a graph drawing: the graph's axes, legend to their right, and two slots for
    horizontal colourbars below, so neither legend nor colourbars cover the graph."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(9, 7.5))
    ax = fig.add_axes((0.0, 0.14, 0.75, 0.8))
    slots = [fig.add_axes((0.03, 0.06, 0.32, 0.025)), fig.add_axes((0.42, 0.06, 0.32, 0.025))]
    for slot in slots:
        slot.set_visible(False)
    return fig, ax, slots


def log_ticks(lo: float, hi: float, most: int = 4) -> list[float]:
    """At most `most` readable ticks on a log scale from lo to hi: the powers of ten inside when
    there are two or more (every k-th if too many), else `most` geometric steps in 2 significant digits."""
    if lo <= 0 or hi <= lo:
        return [lo] if lo > 0 else []
    decades = [10.0 ** k for k in range(math.ceil(math.log10(lo)), math.floor(math.log10(hi)) + 1)]
    if len(decades) >= 2:
        step = math.ceil(len(decades) / most)
        return decades[::step]
    steps = [lo * (hi / lo) ** (i / (most - 1)) for i in range(most)] if most > 1 else [lo]
    rounded = [float(f"{x:.2g}") for x in steps]
    return [x for x in dict.fromkeys(rounded) if lo <= x <= hi]


def colourbar(fig: Any, slot: Any, norm: Any, cmap: Any, label: str) -> Any:
    """A horizontal colourbar in one of graph_figure's slots; a log one gets a few ticks in `short` form."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    slot.set_visible(True)
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=slot, orientation="horizontal", label=label)
    if isinstance(norm, LogNorm):
        bar.ax.xaxis.set_major_locator(FixedLocator(log_ticks(norm.vmin, norm.vmax)))
        bar.ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: short(x)))
        bar.ax.xaxis.set_minor_locator(NullLocator())
    return bar


def save(fig: Any, path: Path) -> None:
    """Write a figure as PNG and free it."""
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
