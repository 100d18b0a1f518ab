"""A study's figures, chosen from its axes: speedup and efficiency vs alpha (one line per value of
another axis, 95 % CI bands, N and 0.5 N lines, the interpolated 0.5 crossing), a heat map of
efficiency over two axes, tasks lost and coverage vs a failure axis, speedup vs agents.count, and
with a learner.reuse.* axis tasks reused, head epochs saved and accuracy vs alpha (or another axis)."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Any

from sim.experiment.plots.drawing import save, short

ALPHA = "alpha"
MAX_FIGURES = 8  # per kind: combinations of the remaining axes beyond this are not drawn
REUSE = "learner.reuse."  # an axis under it draws reuse_vs_<x>.png
REUSE_PANELS = [("reuse_tasks", "tasks reused"), ("reuse_epochs_saved", "head epochs saved"),
                ("accuracy", "accuracy (no oracle)")]  # reuse off: no first two (null), accuracy as the baseline


def crossing(points: list[tuple[float, float]], level: float = 0.5) -> float | None:
    """The alpha where efficiency first falls through `level`, interpolated linearly in log alpha
    between the two grid points around it; None when it never does on the grid."""
    pts = sorted((a, e) for a, e in points if e is not None and a > 0)
    for (a0, e0), (a1, e1) in zip(pts, pts[1:]):
        if e0 >= level > e1:
            frac = (e0 - level) / (e0 - e1)
            return float(10 ** (math.log10(a0) + frac * (math.log10(a1) - math.log10(a0))))
    return None


def render(out: Path, axes: list[str], summary: list[dict[str, Any]], agents: int | None = None
           ) -> tuple[list[str], list[dict[str, Any]]]:
    """Draw every figure the axes call for into `out`; return the file names and the 0.5 crossings."""
    import matplotlib

    matplotlib.use("Agg")
    drawn: list[str] = []
    crossings: list[dict[str, Any]] = []
    rows = [r for r in summary if r.get("seeds")]
    if not rows:
        return drawn, crossings
    others = [a for a in axes if a != ALPHA]
    if ALPHA in axes:
        line = others[0] if others else None
        for fixed in _combos(rows, others[1:]):
            name = _name("speedup_efficiency_vs_alpha", fixed)
            crossings += _vs_alpha(out / name, _select(rows, fixed), line, fixed, agents)
            drawn.append(name)
    pair = ([others[0], ALPHA] if ALPHA in axes and others else axes[:2]) if len(axes) >= 2 else None
    if pair:
        rest = [a for a in axes if a not in pair]
        for fixed in _combos(rows, rest):
            name = _name("efficiency_heatmap", fixed)
            _heatmap(out / name, _select(rows, fixed), pair, fixed)
            drawn.append(name)
    for axis in axes:
        if axis.startswith("failures."):
            name = _name("resilience_vs", {axis: None})
            _lines_figure(out / name, rows, axis, [a for a in axes if a != axis],
                          [("tasks_lost", "tasks lost"), ("coverage_final", "final coverage")], None)
            drawn.append(name)
        if axis == "agents.count":
            name = "speedup_vs_agents.png"
            _lines_figure(out / name, rows, axis, [a for a in axes if a != axis], [("speedup", "speedup")], "N")
            drawn.append(name)
    reuse = [a for a in axes if a.startswith(REUSE)]
    if reuse:  # what reuse found and saved, and the accuracy it gave, against alpha (or another axis)
        x_axis = ALPHA if ALPHA in axes else next((a for a in axes if not a.startswith(REUSE)), reuse[0])
        name = _name("reuse_vs", {x_axis: None})
        _lines_figure(out / name, rows, x_axis, [a for a in axes if a != x_axis], REUSE_PANELS, None)
        drawn.append(name)
    return drawn, crossings


def _combos(rows: list[dict[str, Any]], fields: list[str]) -> list[dict[str, Any]]:
    """Each combination of `fields` values present in the rows (first-seen order), at most MAX_FIGURES."""
    seen: list[dict[str, Any]] = []
    for r in rows:
        combo = {f: r[f] for f in fields}
        if combo not in seen:
            seen.append(combo)
    return seen[:MAX_FIGURES]


def _select(rows: list[dict[str, Any]], fixed: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in rows if all(r[f] == v for f, v in fixed.items())]


def _name(stem: str, fixed: dict[str, Any]) -> str:
    parts = [f"{f}" if v is None else f"{f}={v}" for f, v in fixed.items()]
    tail = re.sub(r"[^A-Za-z0-9._=+-]", "-", "__".join(parts))[:100]
    return f"{stem}__{tail}.png" if tail else f"{stem}.png"


def _title(fixed: dict[str, Any]) -> str:
    return ", ".join(f"{f} = {v}" for f, v in fixed.items() if v is not None)


def _series(rows: list[dict[str, Any]], x_axis: str, metric: str) -> list[tuple[Any, float, Any, Any]]:
    """(x, mean, ci low, ci high) of a metric, in the rows' order of x (numbers sorted)."""
    def num(value: Any) -> Any:
        return math.nan if value is None else value

    pts = [(r[x_axis], num(r.get(f"{metric}_mean")), r.get(f"{metric}_ci95_low"), r.get(f"{metric}_ci95_high"))
           for r in rows]
    if all(isinstance(p[0], (int, float)) and not isinstance(p[0], bool) for p in pts):
        pts.sort(key=lambda p: p[0])
    return pts


def _groups(rows: list[dict[str, Any]], line: str | list[str] | None) -> dict[str, list[dict[str, Any]]]:
    """Rows split into lines by the values of `line` (one field or several), labelled by them."""
    fields = [line] if isinstance(line, str) else list(line or [])
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        label = ", ".join(f"{f.split('.')[-1]}={r[f]}" for f in fields) or "all cells"
        out.setdefault(label, []).append(r)
    return dict(itertools.islice(out.items(), MAX_FIGURES))


def _band(ax: Any, xs: list[Any], pts: list[tuple], color: Any) -> None:
    lows = [p[2] for p in pts]
    highs = [p[3] for p in pts]
    if all(v is not None for v in lows + highs):
        ax.fill_between(xs, lows, highs, color=color, alpha=0.18, linewidth=0)


def _vs_alpha(path: Path, rows: list[dict[str, Any]], line: str | None, fixed: dict[str, Any],
              agents: int | None) -> list[dict[str, Any]]:
    """Speedup and efficiency vs alpha, one line per value of `line`; return each line's 0.5 crossing."""
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7.5), sharex=True)
    found = []
    means = []
    for i, (label, members) in enumerate(_groups(rows, line).items()):
        color = f"C{i}"
        speed = _series(members, ALPHA, "speedup")
        eff = _series(members, ALPHA, "efficiency")
        alphas = [p[0] for p in speed]
        means += [p[1] for p in speed if p[1] > 0]
        cross = crossing([(p[0], None if math.isnan(p[1]) else p[1]) for p in eff])
        finite = [p for p in eff if not math.isnan(p[1])]
        if cross:
            tag = f" · eff. 0.5 at α≈{short(cross)} (interpolated in log α)"
        elif len(finite) < 2:
            tag = " · one α so far: no crossing"
        else:
            tag = " · eff. 0.5 not crossed on this α grid"
        top.plot(alphas, [p[1] for p in speed], "o-", color=color, label=label + tag)
        _band(top, alphas, speed, color)
        bottom.plot(alphas, [p[1] for p in eff], "o-", color=color, label=label)
        _band(bottom, alphas, eff, color)
        if cross:
            bottom.plot([cross], [0.5], marker="x", color=color, markersize=9)
        found.append({"line": label, **fixed, "efficiency_half_alpha": cross, "interpolated": "log alpha"})
    if agents:
        for y, text in ((agents, f"N = {agents}"), (agents / 2, "0.5 N")):
            top.axhline(y, color="grey", linestyle="--" if y == agents else ":", linewidth=1)
            top.annotate(text, (1, y), xycoords=("axes fraction", "data"), ha="right", va="bottom", color="grey")
    for y, text in ((1.0, "efficiency 1 (speedup N)"), (0.5, "0.5 (speedup 0.5 N)")):
        bottom.axhline(y, color="grey", linestyle="--" if y == 1 else ":", linewidth=1)
        bottom.annotate(text, (1, y), xycoords=("axes fraction", "data"), ha="right", va="bottom", color="grey")
    top.set_xscale("log")
    if means and min(means) < max(means) / 30:  # speedup falling as 1/alpha: a log axis shows every line
        top.set_yscale("log")
    top.set_ylabel("speedup (mean, 95 % CI over seeds)")
    bottom.set_ylabel("efficiency = speedup / N")
    bottom.set_xlabel("α (MACs per byte)")
    top.legend(fontsize=7, loc="lower left")
    top.set_title("speedup and efficiency vs α" + (f" · {_title(fixed)}" if _title(fixed) else ""))
    save(fig, path)
    return found


def _heatmap(path: Path, rows: list[dict[str, Any]], pair: list[str], fixed: dict[str, Any]) -> None:
    """Mean efficiency over two axes (rows: the first, columns: the second), each cell annotated."""
    import matplotlib.pyplot as plt
    import numpy as np

    ys = list(dict.fromkeys(r[pair[0]] for r in rows))
    xs = list(dict.fromkeys(r[pair[1]] for r in rows))
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs):
        xs.sort()
    grid = np.full((len(ys), len(xs)), np.nan)
    for r in rows:
        value = r.get("efficiency_mean")
        grid[ys.index(r[pair[0]]), xs.index(r[pair[1]])] = np.nan if value is None else value
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 3, 0.6 * len(ys) + 2))
    image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=max(1.0, float(np.nanmax(grid)) if np.isfinite(grid).any() else 1.0),
                      aspect="auto")
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v < 0.6 else "black", fontsize=8)
    ax.set_xticks(range(len(xs)), [short(x) if isinstance(x, float) else str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    ax.set_xlabel(pair[1])
    ax.set_ylabel(pair[0])
    fig.colorbar(image, ax=ax, label="efficiency (mean over seeds)")
    ax.set_title("efficiency" + (f" · {_title(fixed)}" if _title(fixed) else ""))
    save(fig, path)


def _lines_figure(path: Path, rows: list[dict[str, Any]], x_axis: str, line_axes: list[str],
                  panels: list[tuple[str, str]], reference: str | None) -> None:
    """One panel per metric against `x_axis` (numbers, or categories such as true/false), a line per
    combination of the other axes, with 95 % CI bands; `reference` "N" adds the speedup = N line."""
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(len(panels), 1, figsize=(8, 3.6 * len(panels)), sharex=True, squeeze=False)
    for i, (label, members) in enumerate(_groups(rows, line_axes).items()):
        for ax, (metric, _) in zip(axs[:, 0], panels):
            pts = _series(members, x_axis, metric)
            numeric = all(isinstance(p[0], (int, float)) and not isinstance(p[0], bool) for p in pts)
            xs = [p[0] if numeric else str(p[0]) for p in pts]
            ax.plot(xs, [p[1] for p in pts], "o-", color=f"C{i}", label=label)
            if numeric:
                _band(ax, xs, pts, f"C{i}")
            else:
                ax.errorbar(xs, [p[1] for p in pts], yerr=_errors(pts), fmt="none", ecolor=f"C{i}", capsize=3)
    for ax, (_, text) in zip(axs[:, 0], panels):
        ax.set_ylabel(text + " (mean, 95 % CI)")
    if reference == "N":
        counts = sorted({r[x_axis] for r in rows})
        axs[0, 0].plot(counts, counts, "--", color="grey", linewidth=1, label="speedup = N")
        axs[0, 0].plot(counts, [c / 2 for c in counts], ":", color="grey", linewidth=1, label="0.5 N")
    if x_axis == ALPHA:
        axs[-1, 0].set_xscale("log")  # shared by every panel
    axs[-1, 0].set_xlabel(x_axis)
    axs[0, 0].legend(fontsize=7)
    texts = [t for _, t in panels]
    named = " and ".join([", ".join(texts[:-1]), texts[-1]] if len(texts) > 1 else texts)
    axs[0, 0].set_title(f"{named} vs {x_axis}")
    save(fig, path)


def _errors(pts: list[tuple]) -> list[list[float]]:
    low = [0.0 if p[2] is None or math.isnan(p[1]) else p[1] - p[2] for p in pts]
    high = [0.0 if p[3] is None or math.isnan(p[1]) else p[3] - p[1] for p in pts]
    return [low, high]
