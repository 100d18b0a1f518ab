"""Graphs from files: GraphML (.graphml) and edge lists (.edgelist, .txt, .csv).

Edge-list lines, `#` starting a comment, fields split on whitespace or commas:

    u v                               an edge
    u v bandwidth [latency [loss]]    an edge with link attributes (numbers, in that order)
    u v {'bandwidth': 1e6, ...}       networkx's data edge-list format (write_edgelist(data=True))
    u                                 a node with no edges

A .csv file may start with a header row naming its columns (`u,v,bandwidth,latency,loss`); its
first two columns are the endpoints, the others numeric edge attributes.

Nodes are relabelled 0..n-1 in natural order of their labels ("n2" before "n10", 2 before 10); the
label as written in the file is kept in the node attribute `label`. Link attributes found in the file
are validated (see `topologies.links`) and kept on the edges.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

import networkx as nx

from topologies.errors import TopologyError
from topologies.links import LINK_ATTRS, check_link_number

EDGELIST_SUFFIXES = (".edgelist", ".txt", ".csv")
SUFFIXES = (".graphml", *EDGELIST_SUFFIXES)
_FORMAT_HINT = "write 'u v [bandwidth latency loss]' or 'u v {\"bandwidth\": ...}'"


def _natural_key(label: Any) -> tuple:
    """Sort key putting 'n2' before 'n10' and 2 before 10, whatever the label type."""
    parts = re.split(r"(\d+)", str(label))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)


def _relabel(graph: nx.Graph) -> nx.Graph:
    """Copy of graph on nodes 0..n-1 in natural label order, the old label kept as attr `label`."""
    order = sorted(graph.nodes, key=lambda x: (_natural_key(x), str(x)))
    index = {old: i for i, old in enumerate(order)}
    out = nx.Graph()
    out.graph.update(graph.graph)
    for old in order:
        out.add_node(index[old], **{**graph.nodes[old], "label": old})
    for u, v, data in sorted(graph.edges(data=True), key=lambda e: sorted((index[e[0]], index[e[1]]))):
        out.add_edge(index[u], index[v], **data)
    return out


def _check_link_values(data: dict, where: str) -> None:
    """Validate (and convert to float) whichever link attributes `data` holds; `where` prefixes errors."""
    for name in LINK_ATTRS:
        if name in data:
            try:
                data[name] = check_link_number(name, data[name])
            except TopologyError as err:
                raise TopologyError(f"{where}: {err}") from None


def _check_links(graph: nx.Graph, path: Path) -> None:
    """Validate bandwidth/latency/loss wherever the file gave them, naming the file and edge."""
    for u, v, data in graph.edges(data=True):
        if u == v:
            raise TopologyError(f"{path}: self-loop on node {u!r}: remove it (a link joins two agents)")
        _check_link_values(data, f"{path}: edge ({u!r}, {v!r})")


def _read_graphml(path: Path) -> nx.Graph:
    """Read a GraphML file as a simple undirected graph."""
    try:
        graph = nx.read_graphml(path)
    except Exception as err:  # ParseError, NetworkXError, KeyError... all mean a bad file here
        raise TopologyError(f"{path}: not a readable GraphML file ({err}): check the file") from None
    if graph.is_multigraph():
        simple = nx.Graph(graph)
        if simple.number_of_edges() != graph.number_of_edges():
            raise TopologyError(f"{path}: has parallel edges: keep one edge per pair of nodes")
        graph = simple
    return graph.to_undirected() if graph.is_directed() else graph


def _number(token: str, what: str, where: str) -> float:
    """Parse one numeric field or raise naming file, line and field."""
    try:
        return float(token)
    except ValueError:
        raise TopologyError(f"{where}: {what}={token!r} is not a number: {_FORMAT_HINT}") from None


def _split(line: str) -> list[str]:
    """Fields of one edge-list line, split on commas and/or whitespace."""
    return [t for t in re.split(r"[,\s]+", line.strip()) if t]


def _read_edgelist(path: Path) -> nx.Graph:
    """Read an edge list in any of the formats described in the module docstring."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise TopologyError(f"{path}: cannot be read as UTF-8 text ({err})") from None
    graph = nx.Graph()
    first_line: dict[frozenset, int] = {}
    columns: tuple[str, ...] = LINK_ATTRS
    seen_data = False
    for lineno, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}, line {lineno}"
        head, brace, rest = line.partition("{")
        fields = _split(head)
        if not seen_data and path.suffix.lower() == ".csv" and not brace and _is_header(fields):
            columns = _header_columns(fields, where)
            seen_data = True
            continue
        seen_data = True
        if brace:
            if len(fields) != 2:
                raise TopologyError(f"{where}: expected 'u v {{...}}', got {raw.strip()!r}")
            try:
                data = ast.literal_eval("{" + rest)
            except (ValueError, SyntaxError):
                data = None
            if not isinstance(data, dict):
                raise TopologyError(f"{where}: {('{' + rest)!r} is not a dict literal: {_FORMAT_HINT}")
        else:
            if len(fields) == 1:
                graph.add_node(fields[0])
                continue
            if len(fields) > 2 + len(columns):
                raise TopologyError(
                    f"{where}: {len(fields)} fields, at most {2 + len(columns)} "
                    f"(u v {' '.join(columns)}): {_FORMAT_HINT}"
                )
            data = {c: _number(t, c, where) for c, t in zip(columns, fields[2:])}
        u, v = fields[0], fields[1]
        if u == v:
            raise TopologyError(f"{where}: self-loop on node {u!r}: remove it (a link joins two agents)")
        key = frozenset((u, v))
        if key in first_line:
            raise TopologyError(
                f"{where}: duplicate edge {u}-{v} (first on line {first_line[key]}): keep one"
            )
        first_line[key] = lineno
        _check_link_values(data, where)
        graph.add_edge(u, v, **data)
    if graph.number_of_nodes() == 0:
        raise TopologyError(f"{path}: no nodes or edges found: {_FORMAT_HINT}")
    return graph


def _is_header(fields: list[str]) -> bool:
    """A csv first row is a header when an attribute column is not a number, or it reads 'u,v'."""
    if len(fields) > 2:
        return not all(_is_number(t) for t in fields[2:])
    return [f.lower() for f in fields] in (["u", "v"], ["source", "target"])


def _is_number(token: str) -> bool:
    """True when token parses as a float."""
    try:
        float(token)
    except ValueError:
        return False
    return True


def _header_columns(fields: list[str], where: str) -> tuple[str, ...]:
    """Attribute column names from a csv header row (everything after the two endpoints)."""
    names = tuple(f.strip().lower() for f in fields[2:])
    bad = [n for n in names if not n.isidentifier()]
    if len(fields) < 2 or bad:
        raise TopologyError(f"{where}: bad csv header {fields!r}: write e.g. 'u,v,bandwidth,latency,loss'")
    return names


def graph_from_file(path: str | os.PathLike[str]) -> nx.Graph:
    """Load a topology from GraphML or an edge list, relabelled to 0..n-1 with link attributes kept."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise TopologyError(
            f"{path}: unknown topology file extension {path.suffix!r}: use one of {list(SUFFIXES)}"
        )
    if not path.is_file():
        raise TopologyError(f"{path}: no such topology file: check the path (relative to {Path.cwd()})")
    if path.suffix.lower() == ".graphml":
        graph = _read_graphml(path)
    else:
        graph = _read_edgelist(path)
    _check_links(graph, path)
    out = _relabel(graph)
    out.graph["family"] = "file"
    out.graph["source"] = str(path)
    return out
