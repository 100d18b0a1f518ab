"""compare.png: the curves of two or more runs or sweeps on one figure. Sweeps (and runs, as one
point at their alpha) give speedup and efficiency vs alpha, with the N and 0.5 N lines of each
agent count and each 0.5 crossing marked as interpolated; runs alone give coverage over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiment.crossing import efficiency_crossing
from sim.experiment.plots.coverage import YLABEL
from sim.experiment.plots.drawing import save, short


def draw(path: Path, compared: list[Any]) -> list[str]:
    """Draw the comparison (sim.experiment.compare.Compared items); returns notes on what was left out."""
    import matplotlib

    matplotlib.use("Agg")
    notes: list[str] = []
    fig = over_alpha(compared) if any(c.kind == "sweep" for c in compared) else over_time(compared, notes)
    save(fig, path)
    return notes


def over_alpha(compared: list[Any]) -> Any:
    """Speedup (left) and efficiency (right) against alpha, one colour per folder."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, c in enumerate(compared):
        colour = f"C{i % 10}"
        rows = [r for r in c.points() if r.get("speedup") is not None]
        style = "o-" if c.kind == "sweep" else "s"
        left.plot([r["alpha"] for r in rows], [r["speedup"] for r in rows], style, color=colour, label=c.label)
        right.plot([r["alpha"] for r in rows], [r["efficiency"] for r in rows], style, color=colour, label=c.label)
        cross = efficiency_crossing(c.points()) if c.kind == "sweep" else None
        if cross is not None:
            right.plot([cross.alpha], [0.5], "D", color=colour, ms=7,
                       label=f"0.5 at α ≈ {short(cross.alpha)} (interpolated, {short(cross.low)}–{short(cross.high)})")
    for n in sorted({c.data.get("agents") for c in compared if c.data.get("agents")}):
        left.axhline(n, color="0.5", ls="--", lw=0.8)
        left.axhline(n / 2, color="0.5", ls=":", lw=0.8)
        left.annotate(f"N = {n}", (1, n), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7)
        left.annotate("0.5 N", (1, n / 2), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7)
    right.axhline(0.5, color="tab:orange", ls=":", lw=0.8)
    for ax, what in ((left, "speedup (single agent / makespan)"), (right, "efficiency (speedup / N)")):
        ax.set_xscale("log")
        ax.set_xlabel("α (MACs per byte)")
        ax.set_ylabel(what)
        ax.grid(alpha=0.3, which="both")
    right.set_ylim(0, 1.05)
    left.set_title("speedup vs α", fontsize=9)
    right.set_title("efficiency vs α (◆: where it crosses 0.5, interpolated in log α)", fontsize=9)
    right.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def over_time(compared: list[Any], notes: list[str]) -> Any:
    """Coverage among survivors over simulated time, one step curve per run."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, c in enumerate(compared):
        curve = c.data.get("simulation", {}).get("coverage")
        if not curve:
            notes.append(f"{c.path}: results.json has no simulation.coverage; left out of the figure")
            continue
        times = [p[0] for p in curve] + [max(curve[-1][0], c.data.get("makespan_s") or 0.0)]
        fracs = [p[1] for p in curve] + [curve[-1][1]]
        ax.step(times, fracs, where="post", color=f"C{i % 10}", lw=1.5,
                label=f"{c.label} (α={c.data.get('alpha', 0):g}, {c.data.get('topology')})")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel(YLABEL)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_title("coverage over time", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig
