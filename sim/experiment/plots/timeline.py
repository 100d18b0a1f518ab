"""timeline.png: a Gantt chart of each agent's learning, sending, receiving and down time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiment.plots.drawing import save
from sim.experiment.plots.intervals import Timeline

MAX_ROWS = 60  # agents shown; more are subsampled evenly and the title says so
# lane -> (offset in the row, height, colour); "down" covers the whole row
LANES = {"learning": (0.05, 0.3, "tab:green"), "sending": (0.35, 0.3, "tab:blue"),
         "receiving": (0.65, 0.3, "tab:orange"), "down": (0.0, 1.0, "black")}


def draw(path: Path, tl: Timeline, data: dict[str, Any]) -> None:
    """Draw one row per shown agent, top to bottom in id order."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = len(tl.agents)
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.9 + 0.18 * rows)))
    for row, agent in enumerate(tl.agents):
        y = rows - 1 - row
        for lane, (offset, height, colour) in LANES.items():
            spans = [(s, e - s) for s, e in tl.lanes[lane][agent]]
            if spans:
                ax.broken_barh(spans, (y + offset, height), facecolors=colour, edgecolor="white",
                               lw=0.6 if lane == "learning" else 0,
                               alpha=0.35 if lane == "down" else 0.9)
    ax.set_yticks([rows - 1 - r + 0.5 for r in range(rows)])
    ax.set_yticklabels([str(a) for a in tl.agents], fontsize=7 if rows <= 30 else 5)
    ax.set_ylim(0, rows)
    ax.set_xlim(0, tl.horizon_s or 1.0)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("agent")
    n = data.get("agents", rows)
    shown = "" if rows >= n else f"; {rows} of {n} agents shown: crashed ones first, then evenly spaced ids"
    ax.set_title(f"{data['scenario']}: what each agent does over time (α={data['alpha']:g}{shown})", fontsize=9)
    ax.legend(handles=[Patch(color=c, alpha=0.35 if k == "down" else 0.9, label=k) for k, (_, _, c) in LANES.items()],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    save(fig, path)
