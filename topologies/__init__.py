"""topologies: networkx graph families, graphs from files, and link attributes (no simpy, no sim/).

The names below load on first use (PEP 562), so that importing `topologies.errors` (as the CLI does
for its error handling) does not import networkx and numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "TopologyError": "topologies.errors",
    **{name: "topologies.families" for name in (
        "erdos_renyi_graph", "full_graph", "grid_graph", "line_graph", "random_regular_graph", "ring_graph",
        "scale_free_graph", "small_world_graph", "star_graph", "torus_graph", "tree_graph")},
    "graph_from_file": "topologies.files",
    **{name: "topologies.links" for name in ("LINK_ATTRS", "assign_links", "check_link_number", "validate_link_value")},
    **{name: "topologies.registry" for name in (
        "FAMILIES", "REQUIRED", "build_graph", "family_params", "list_families", "takes_seed")},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'topologies' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
