"""The PNG figures of a run directory or a sweep, one module per figure; `render` draws them all.

Every figure reads the directory's saved files (results.json or sweep.json, topology.graphml),
so `skill-sim report DIR` redraws them. matplotlib is imported inside the drawing functions only:
importing this package costs nothing to `validate` or `list`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from sim.experiment import results as files

COVERAGE_PNG = "coverage.png"
TOPOLOGY_PNG = "topology.png"
SPEEDUP_PNG = "speedup_vs_alpha.png"


def render(out: Path, data: dict[str, Any]) -> list[str]:
    """(Re)draw the PNG plots of a run or a sweep from its saved files; returns notes on skipped figures."""
    import matplotlib

    matplotlib.use("Agg")
    from sim.experiment.plots import coverage, speedup, topology

    if "rows" in data:
        speedup.draw(out / SPEEDUP_PNG, data)
        return []
    curve = data.get("simulation", {}).get("coverage")
    if curve:
        coverage.draw(out / COVERAGE_PNG, curve, data)
    if (out / files.GRAPHML).is_file():
        topology.draw(out / TOPOLOGY_PNG, nx.read_graphml(out / files.GRAPHML), data)
    return []
