"""Link attributes: `bandwidth` (bytes/s, > 0), `latency` (s, >= 0), `loss` (probability in [0, 1)).

Each attribute is given as a number (one value for every edge), a seeded distribution spec, or None
(every edge must already carry a value, e.g. from a topology file):

    {"dist": "uniform", "low": a, "high": b}
    {"dist": "lognormal", "mean": m, "sigma": s}   m is the mean of the values themselves (in the
                                                  attribute's units), s the std of their logarithm
    {"dist": "normal", "mean": m, "std": s}        samples clipped into the valid range
    {"dist": "choice", "values": [v1, v2, ...]}    uniform pick among the listed values
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

import networkx as nx
import numpy as np

from topologies.errors import TopologyError

LINK_ATTRS = ("bandwidth", "latency", "loss")

_RANGES = {
    "bandwidth": "bandwidth (bytes/s) must be a finite number > 0",
    "latency": "latency (s) must be a finite number >= 0",
    "loss": "loss (probability) must be a number in [0, 1)",
}

# Where clipped normal samples land at the open ends of the valid ranges: 1 byte/s is the slowest
# link worth modelling, and a loss just below 1 still lets a retransmitting sender finish eventually.
_BANDWIDTH_FLOOR = 1.0
_LOSS_CEILING = float(np.nextafter(1.0, 0.0))

_DIST_KEYS = {
    "uniform": ("low", "high"),
    "lognormal": ("mean", "sigma"),
    "normal": ("mean", "std"),
    "choice": ("values",),
}

LinkSpec = float | Mapping[str, Any] | None


def _check_name(name: str) -> None:
    """Raise unless name is one of the three link attributes."""
    if name not in LINK_ATTRS:
        raise TopologyError(f"unknown link attribute {name!r}: choose one of {list(LINK_ATTRS)}")


def check_link_number(name: str, value: object) -> float:
    """Return value as a float if it is a valid number for link attribute `name`, else raise."""
    _check_name(name)
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if ok:
        x = float(value)
        ok = {"bandwidth": x > 0, "latency": x >= 0, "loss": 0 <= x < 1}[name]
    if not ok:
        raise TopologyError(f"{name}={value!r} is invalid: {_RANGES[name]}")
    return x


def _check_positive(name: str, key: str, value: object) -> float:
    """Return a distribution parameter that must be a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < math.inf:
        raise TopologyError(f"{name}: {key}={value!r} must be a finite number > 0")
    return float(value)


def validate_link_value(name: str, spec: LinkSpec) -> LinkSpec:
    """Check a scenario's value for attribute `name` (number, distribution spec or None); raise if bad.

    Returns the value unchanged (numbers as float), so the scenario schema can use it as a validator.
    """
    _check_name(name)
    if spec is None:
        return spec
    if not isinstance(spec, Mapping):
        return check_link_number(name, spec)
    dist = spec.get("dist")
    if dist not in _DIST_KEYS:
        raise TopologyError(
            f"{name}: unknown dist {dist!r}: choose one of {list(_DIST_KEYS)}, or give a number"
        )
    allowed = {"dist", *_DIST_KEYS[dist]}
    missing = [k for k in _DIST_KEYS[dist] if k not in spec]
    extra = sorted(set(spec) - allowed)
    if missing or extra:
        raise TopologyError(
            f"{name}: dist {dist!r} takes keys {sorted(allowed)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; unknown {extra}" if extra else "")
        )
    if dist == "uniform":
        low = check_link_number(name, spec["low"])
        high = check_link_number(name, spec["high"])
        if low > high:
            raise TopologyError(f"{name}: uniform low={low!r} > high={high!r}: swap them")
    elif dist == "lognormal":
        _check_positive(name, "mean", spec["mean"])
        _check_positive(name, "sigma", spec["sigma"])
        if name == "loss":
            raise TopologyError("loss: dist 'lognormal' is unbounded above 1: use uniform or choice")
    elif dist == "normal":
        mean = spec["mean"]
        if isinstance(mean, bool) or not isinstance(mean, numbers.Real) or not math.isfinite(mean):
            raise TopologyError(f"{name}: normal mean={mean!r} must be a finite number")
        std = spec["std"]
        if isinstance(std, bool) or not isinstance(std, numbers.Real) or not 0 <= std < math.inf:
            raise TopologyError(f"{name}: normal std={std!r} must be a finite number >= 0")
    else:
        values = spec["values"]
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or not values:
            raise TopologyError(f"{name}: choice values={values!r} must be a non-empty list")
        for v in values:
            check_link_number(name, v)
    return spec


def draw_distribution(spec: Mapping[str, Any] | float, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` values of a validated spec: a number repeated, or seeded draws of its distribution
    (unclipped; link attributes and synthetic costs each clip into their own range)."""
    if not isinstance(spec, Mapping):
        return np.full(count, float(spec))
    dist = spec["dist"]
    if dist == "uniform":
        return rng.uniform(spec["low"], spec["high"], count)
    if dist == "lognormal":
        sigma = float(spec["sigma"])
        # numpy's mean is that of log(x); shift it so the values themselves average `mean`.
        return rng.lognormal(math.log(spec["mean"]) - sigma * sigma / 2, sigma, count)
    if dist == "normal":
        return rng.normal(spec["mean"], spec["std"], count)
    return rng.choice(np.asarray(spec["values"], dtype=float), count)


def _draw(name: str, spec: LinkSpec, count: int, rng: np.random.Generator) -> list[float] | None:
    """Draw `count` values for one attribute (already validated); None when spec is None."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        return [float(spec)] * count
    values = draw_distribution(spec, count, rng)
    if name == "bandwidth":
        values = np.maximum(values, _BANDWIDTH_FLOOR)
    elif name == "latency":
        values = np.maximum(values, 0.0)
    else:
        values = np.clip(values, 0.0, _LOSS_CEILING)
    return [float(v) for v in values]


def draw_link_values(name: str, spec: LinkSpec, count: int, rng: np.random.Generator) -> list[float] | None:
    """Draw `count` values of a validated spec, clipped into attribute `name`'s range (the engine
    draws per-agent NIC caps with it, as bandwidths)."""
    return _draw(name, spec, count, rng)


def _sorted_edges(graph: nx.Graph) -> list[tuple[Any, Any]]:
    """Edges as (low, high) pairs in sorted order, so draws do not depend on insertion order."""
    try:
        pairs = [(u, v) if u <= v else (v, u) for u, v in graph.edges]
        return sorted(pairs)
    except TypeError:  # node labels of mixed types: fall back to their text
        pairs = [(u, v) if str(u) <= str(v) else (v, u) for u, v in graph.edges]
        return sorted(pairs, key=lambda e: (str(e[0]), str(e[1])))


def assign_links(
    graph: nx.Graph,
    bandwidth: LinkSpec,
    latency: LinkSpec,
    loss: LinkSpec,
    seed: int | None = None,
    keep_existing: bool = True,
) -> nx.Graph:
    """Return a copy of graph with bandwidth, latency and loss on every edge (input left unchanged)."""
    specs = {"bandwidth": bandwidth, "latency": latency, "loss": loss}
    for name, spec in specs.items():
        validate_link_value(name, spec)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise TopologyError(f"seed={seed!r} must be None or a non-negative integer")
    out = graph.copy()
    edges = _sorted_edges(out)
    # One child generator per attribute: changing how bandwidth is drawn never shifts the latencies.
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(LINK_ATTRS))]
    for (name, spec), rng in zip(specs.items(), rngs):
        drawn = _draw(name, spec, len(edges), rng)
        for i, (u, v) in enumerate(edges):
            data = out.edges[u, v]
            if name in data and (keep_existing or drawn is None):
                try:
                    data[name] = check_link_number(name, data[name])
                except TopologyError as err:
                    raise TopologyError(f"edge ({u}, {v}): {err}") from None
            elif drawn is None:
                raise TopologyError(
                    f"edge ({u}, {v}) has no {name} and {name}=None: give a number or a distribution"
                )
            else:
                data[name] = drawn[i]
    return out
