"""Where a curve sampled on an alpha grid falls through a level (efficiency through 0.5): linear
interpolation in log alpha between the two grid points that bracket it. The answer depends on the
grid, so it travels with those two points and says so. Pure: no plotting, no files."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

REFINE_RATIO = 3.0  # a bracket wider than this (in alpha) is worth refining: say so


@dataclass(frozen=True)
class Crossing:
    """The interpolated alpha where the curve reaches `level`, and the grid points around it."""

    alpha: float
    low: float  # the last grid alpha at or above the level
    high: float  # the first grid alpha below it
    level: float

    @property
    def on_grid(self) -> bool:
        """True when a grid point sits exactly on the level (nothing was interpolated)."""
        return self.alpha == self.low

    def describe(self) -> str:
        """'~2.3e3, interpolated in log alpha between 1e3 and 1e4' (or 'at 1e3, a grid point')."""
        if self.on_grid:
            return f"{_grid(self.alpha)} (a grid point)"
        return f"~{_g(self.alpha)}, interpolated in log α between {_grid(self.low)} and {_grid(self.high)}"

    def hint(self) -> str | None:
        """How to pin it down when the bracket is wide (the value moves with the grid), else None."""
        if self.on_grid or self.high / self.low <= REFINE_RATIO:
            return None
        return (f"the value depends on the grid: add alphas between {_grid(self.low)} and {_grid(self.high)} "
                f"(e.g. --alpha {','.join(_g(a) for a in refined(self.low, self.high))}) to pin it down")


def crossing(points: Iterable[tuple[float, float | None]], level: float = 0.5) -> Crossing | None:
    """The first place, in increasing alpha, where y falls from >= `level` to < `level`, interpolated
    linearly in log10(alpha); None when it never does within the grid. Points with y None (never
    reached) are skipped; alphas must be positive."""
    pts = sorted((float(a), float(y)) for a, y in points if y is not None)
    for (a0, y0), (a1, y1) in zip(pts, pts[1:]):
        if y0 >= level > y1:
            frac = (y0 - level) / (y0 - y1)
            alpha = a0 if frac == 0 else 10 ** (math.log10(a0) + frac * (math.log10(a1) - math.log10(a0)))
            return Crossing(alpha=float(alpha), low=a0, high=a1, level=level)
    return None


def efficiency_crossing(rows: Iterable[dict[str, Any]], level: float = 0.5) -> Crossing | None:
    """The crossing of a sweep's rows (each with `alpha` and `efficiency`)."""
    return crossing(((r["alpha"], r.get("efficiency")) for r in rows), level)


def refined(low: float, high: float, per_decade: int = 4) -> list[float]:
    """A few alphas evenly spaced in log alpha from `low` to `high` (both included), rounded to 2
    significant digits: a grid to rerun a sweep on."""
    steps = max(2, math.ceil(per_decade * math.log10(high / low)))
    values = [float(f"{10 ** (math.log10(low) + k / steps * math.log10(high / low)):.2g}") for k in range(steps + 1)]
    return sorted(set(values))


def _g(x: float) -> str:
    """2 significant digits in e-notation for what is interpolated: '2.3e3', '1e4'."""
    mantissa, _, exponent = f"{x:.1e}".partition("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def _grid(x: float) -> str:
    """A grid alpha as short as it stays exact: '1e3', '2.5e3', else '1890'."""
    text = _g(x)
    return text if float(text) == x else f"{x:g}"
