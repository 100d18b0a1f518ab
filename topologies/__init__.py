"""topologies: networkx graph families, graphs from files, and link attributes (no simpy, no sim/)."""

from topologies.errors import TopologyError
from topologies.families import (
    erdos_renyi_graph,
    full_graph,
    grid_graph,
    line_graph,
    random_regular_graph,
    ring_graph,
    scale_free_graph,
    small_world_graph,
    star_graph,
    torus_graph,
    tree_graph,
)
from topologies.files import graph_from_file
from topologies.links import LINK_ATTRS, assign_links, check_link_number, validate_link_value
from topologies.registry import (
    FAMILIES,
    REQUIRED,
    build_graph,
    family_params,
    list_families,
    takes_seed,
)

__all__ = [
    "FAMILIES",
    "LINK_ATTRS",
    "REQUIRED",
    "TopologyError",
    "assign_links",
    "build_graph",
    "check_link_number",
    "erdos_renyi_graph",
    "family_params",
    "full_graph",
    "graph_from_file",
    "grid_graph",
    "line_graph",
    "list_families",
    "random_regular_graph",
    "ring_graph",
    "scale_free_graph",
    "small_world_graph",
    "star_graph",
    "takes_seed",
    "torus_graph",
    "tree_graph",
    "validate_link_value",
]
