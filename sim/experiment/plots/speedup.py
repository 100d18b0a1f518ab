"""speedup_vs_alpha.png: a sweep's speedup against the price of a byte, with the N, 0.5 N,
speedup = 1 and free-communication lines and the interpolated 0.5 N crossing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.errors import SimError
from sim.experiment.crossing import efficiency_crossing
from sim.experiment.naming import titled
from sim.experiment.plots.drawing import save, short

Y_SCALES = ("auto", "log", "linear")


def y_scale(rows: list[dict[str, Any]], n: int, choice: str = "auto") -> str:
    """"log" or "linear"; "auto" takes a log axis when the speedups span a wide range (min < N/100)."""
    if choice not in Y_SCALES:
        raise SimError(f"y scale {choice!r}: choose one of {', '.join(Y_SCALES)}")
    if choice != "auto":
        return choice
    speedups = [r["speedup"] for r in rows if r.get("speedup")]
    return "log" if speedups and min(speedups) < n / 100 else "linear"


def densified(points: list[tuple[float, float]], extra: list[float] = (), per_segment: int = 24
              ) -> tuple[list[float], list[float]]:
    """The line through (alpha, speedup) points, each segment filled in with speedup linear in
    log alpha (as the 0.5 N crossing is interpolated), so it is drawn alike on any y scale;
    the alphas in `extra` are put on the line exactly."""
    xs: list[float] = []
    ys: list[float] = []
    for (a0, s0), (a1, s1) in zip(points, points[1:]):
        inside = [a for a in extra if a0 < a < a1]
        grid = [10 ** (math.log10(a0) + k / per_segment * (math.log10(a1) - math.log10(a0)))
                for k in range(per_segment)]
        for a in sorted(grid + inside):
            frac = (math.log10(a) - math.log10(a0)) / (math.log10(a1) - math.log10(a0)) if a1 > a0 else 0.0
            xs.append(a)
            ys.append(s0 + frac * (s1 - s0))
    if points:
        xs.append(points[-1][0])
        ys.append(points[-1][1])
    return xs, ys


def draw(path: Path, sweep: dict[str, Any], scale: str = "auto") -> None:
    """Draw speedup vs alpha of one sweep."""
    save(figure(sweep, scale), path)


def figure(sweep: dict[str, Any], scale: str = "auto") -> Any:
    """The speedup-vs-alpha figure of one sweep."""
    import matplotlib.pyplot as plt

    rows = sorted(sweep["rows"], key=lambda r: r["alpha"])
    n = sweep["agents"]
    alphas = [r["alpha"] for r in rows]
    cross = sweep.get("efficiency_half_alpha")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    points = [(r["alpha"], r["speedup"]) for r in rows if r.get("speedup") is not None and r["alpha"] > 0]
    ax.plot(*densified(points, [cross] if cross else []), "-", color="tab:blue", label="speedup", zorder=3)
    ax.plot([a for a, _ in points], [s for _, s in points], "o", color="tab:blue", zorder=3)
    bounds = [r.get("speedup_bound") for r in rows]
    if rows and all(b is not None for b in bounds):
        text = f"free communication = {bounds[0]:.3g}" if len(set(bounds)) == 1 else "free communication"
        ax.plot(alphas, bounds, color="tab:purple", ls="-.", label=text)
    ax.axhline(n, color="tab:green", ls="--", label=f"N = {n}")
    ax.axhline(n / 2, color="tab:orange", ls=":", label=f"0.5 N = {n / 2:g}")
    ax.axhline(1, color="0.4", ls="-", lw=0.8, label="speedup = 1 (no gain)")
    if cross:
        between = sweep.get("efficiency_half_between") or _bracket(rows)  # sweeps written before it lack it
        how = f"interpolated between {short(between[0])} and {short(between[1])}" if between else "interpolated"
        ax.plot([cross], [n / 2], "D", color="tab:red", ms=7, zorder=4, label=f"0.5 N at α ≈ {short(cross)} ({how})")
        ax.annotate(f"≈ {short(cross)} (interpolated)", (cross, n / 2), textcoords="offset points", xytext=(6, 6),
                    fontsize=8, color="tab:red")
    ax.set_xscale("log")
    ax.set_yscale(y_scale(rows, n, scale))
    ax.set_xlabel("α (MACs per byte)")
    ax.set_ylabel("speedup (single agent / makespan)")
    ax.set_title(f"{titled(sweep)}: speedup vs α ({sweep['topology']}, {sweep['protocol']})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def _bracket(rows: list[dict[str, Any]]) -> list[float] | None:
    """The two grid alphas around the 0.5 efficiency crossing, recomputed from the rows."""
    cross = efficiency_crossing(rows)
    return [cross.low, cross.high] if cross else None
