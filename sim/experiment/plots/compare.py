"""compare.png: the curves of two or more runs, sweeps or studies on one figure. Sweeps and a
study's lines over alpha (and runs, or study combinations without an alpha axis, as one point at
their alpha) give speedup and efficiency vs alpha, with the N and 0.5 N lines of each agent count,
each 0.5 crossing marked as interpolated and a study's 95 % band; runs alone give coverage over time."""

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
    fig = over_alpha(compared) if any(c.curve for c in compared) else over_time(compared, notes)
    save(fig, path)
    return notes


def over_alpha(compared: list[Any]) -> Any:
    """Speedup (left) and efficiency (right) against alpha, one colour per entry."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, c in enumerate(compared):
        colour = f"C{i % 10}"
        rows = [r for r in c.points() if r.get("speedup") is not None]
        style = "o-" if c.curve else "s"
        for ax, metric in ((left, "speedup"), (right, "efficiency")):
            ax.plot([r["alpha"] for r in rows], [r[metric] for r in rows], style, color=colour, label=c.label)
            _band(ax, rows, metric, colour)
        cross = efficiency_crossing(c.points()) if c.curve else None
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
    studied = any(c.kind == "study" for c in compared)
    left.set_title("speedup vs α" + (" (a study's lines: means over seeds, shaded 95 % CI)" if studied else ""),
                   fontsize=9)
    right.set_title("efficiency vs α (◆: where it crosses 0.5, interpolated in log α)", fontsize=9)
    right.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def _band(ax: Any, rows: list[dict[str, Any]], metric: str, colour: str) -> None:
    """A study's 95 % confidence band around its means (where two or more seeds give one)."""
    band = [(r["alpha"], *r[f"{metric}_ci95"]) for r in rows
            if None not in r.get(f"{metric}_ci95", (None, None))]
    if len(band) > 1:
        ax.fill_between([b[0] for b in band], [b[1] for b in band], [b[2] for b in band], color=colour, alpha=0.15,
                        lw=0)


def over_time(compared: list[Any], notes: list[str]) -> Any:
    """Coverage among survivors over simulated time, one step curve per run."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for i, c in enumerate(compared):
        curve = c.data.get("simulation", {}).get("coverage")
        if c.kind == "study":
            notes.append(f"{c.label}: a study's means have no one coverage curve; left out of the figure "
                         "(compare its cells' run directories for theirs)")
            continue
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
