"""Name -> graph-family registry behind one factory, `build_graph(family, n, seed=None, **params)`."""

from __future__ import annotations

import difflib
import inspect
import os
from typing import Any, Callable

import networkx as nx

from topologies import families
from topologies.errors import TopologyError
from topologies.files import graph_from_file

# Marks a parameter with no default in family_params (the "file" family's path).
REQUIRED = inspect.Parameter.empty


def file_graph(n: int | None = None, path: str | os.PathLike[str] = "") -> nx.Graph:
    """Topology read from a GraphML or edge-list file; n, when given, must match its node count."""
    if not path:
        raise TopologyError("family 'file' needs path=...: a .graphml, .edgelist, .txt or .csv file")
    graph = graph_from_file(path)
    if n is not None and n != graph.number_of_nodes():
        raise TopologyError(
            f"{path} has {graph.number_of_nodes()} nodes but n={n}: set n to "
            f"{graph.number_of_nodes()} or leave it unset"
        )
    return graph


# Required for file_graph even though the signature gives "" (so n can come first, as everywhere).
_REQUIRED_PARAMS = {"file": ("path",)}

FAMILIES: dict[str, Callable[..., nx.Graph]] = {
    "ring": families.ring_graph,
    "line": families.line_graph,
    "full": families.full_graph,
    "star": families.star_graph,
    "grid": families.grid_graph,
    "torus": families.torus_graph,
    "tree": families.tree_graph,
    "small_world": families.small_world_graph,
    "scale_free": families.scale_free_graph,
    "random_regular": families.random_regular_graph,
    "erdos_renyi": families.erdos_renyi_graph,
    "file": file_graph,
}


def _closest(word: str, options) -> str | None:
    """The option closest to word, ignoring case, or None when nothing is close."""
    lowered = {str(o).lower(): o for o in options}
    close = difflib.get_close_matches(str(word).lower(), lowered, n=1)
    return lowered[close[0]] if close else None


def _lookup(family: str) -> Callable[..., nx.Graph]:
    """The builder for `family`, or an error naming the closest family and listing all of them."""
    if family in FAMILIES:
        return FAMILIES[family]
    close = _closest(family, FAMILIES)
    hint = f"did you mean {close!r}? " if close else ""
    raise TopologyError(f"unknown topology family {family!r}: {hint}choose one of {sorted(FAMILIES)}")


def family_params(family: str) -> dict[str, Any]:
    """Parameter name -> default (REQUIRED if none) for a family, leaving out n and seed."""
    signature = inspect.signature(_lookup(family))
    params = {
        name: p.default for name, p in signature.parameters.items() if name not in ("n", "seed")
    }
    for name in _REQUIRED_PARAMS.get(family, ()):
        params[name] = REQUIRED
    return params


def takes_seed(family: str) -> bool:
    """True when the family is random, i.e. its builder takes a seed."""
    return "seed" in inspect.signature(_lookup(family)).parameters


def build_graph(family: str, n: int | None, seed: int | None = None, **params: Any) -> nx.Graph:
    """Build a graph of the named family on nodes 0..n-1; seed is ignored by deterministic families."""
    build = _lookup(family)
    allowed = family_params(family)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        close = _closest(unknown[0], allowed)
        hint = f" (did you mean {close!r}?)" if close else ""
        names = ", ".join(allowed) if allowed else "none"
        raise TopologyError(
            f"unknown parameter {unknown[0]!r} for family {family!r}{hint}: allowed: {names}"
        )
    missing = [name for name, default in allowed.items() if default is REQUIRED and name not in params]
    if missing:
        raise TopologyError(f"family {family!r} needs {', '.join(f'{m}=...' for m in missing)}")
    if n is None and family != "file":
        raise TopologyError(f"family {family!r} needs n (the number of agents), e.g. n=16")
    if takes_seed(family):
        params["seed"] = seed
    return build(n, **params)


def _describe(family: str) -> str:
    """One line: the call with its parameters and defaults, then the builder's docstring summary."""
    build = FAMILIES[family]
    args = ["n"]
    for name, default in family_params(family).items():
        args.append(name if default is REQUIRED else f"{name}={default!r}")
    if takes_seed(family):
        args.append("seed")
    summary = (inspect.getdoc(build) or "").splitlines()[0] if inspect.getdoc(build) else ""
    return f"{family}({', '.join(args)}): {summary}"


def list_families() -> dict[str, str]:
    """Family name -> one-line description with its parameters, for `skill-sim list` and docs."""
    return {name: _describe(name) for name in FAMILIES}
