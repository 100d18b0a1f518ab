"""timeline.png: a Gantt chart of each agent's learning, sending, receiving and down time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.experiment.naming import titled
from sim.experiment.plots.drawing import save
from sim.experiment.plots.intervals import Timeline

MAX_ROWS = 60  # agents shown; more are subsampled (crashed, then active agents first) and the title says so
# lane -> (bottom within the agent's row band [0, 1], height); three thin lanes inside the row, "down" behind them
LANE_BANDS = {"learning": (0.68, 0.22), "interrupted": (0.68, 0.22), "sending": (0.39, 0.22),
              "receiving": (0.10, 0.22), "down": (0.03, 0.94)}
LEARNING_SHADES = ("tab:green", "darkgreen")  # consecutive tasks alternate, so each boundary shows
COLOURS = {"interrupted": "#b5e3b5", "sending": "tab:blue", "receiving": "tab:orange", "down": "black"}


@dataclass(frozen=True)
class Bar:
    """One drawn bar: its agent, lane, time span, vertical extent and colour."""

    agent: int
    lane: str
    start: float
    end: float
    bottom: float
    height: float
    colour: str


def bars(tl: Timeline) -> list[Bar]:
    """Every bar of the chart; row r (agents in id order, top to bottom) is the band [rows-1-r, rows-r]."""
    rows = len(tl.agents)
    out: list[Bar] = []
    for row, agent in enumerate(tl.agents):
        y = rows - 1 - row
        for lane, (offset, height) in LANE_BANDS.items():
            for k, (start, end) in enumerate(tl.lanes.get(lane, {}).get(agent, [])):
                colour = LEARNING_SHADES[k % 2] if lane == "learning" else COLOURS[lane]
                out.append(Bar(agent, lane, start, end, y + offset, height, colour))
    return out


def draw(path: Path, tl: Timeline, data: dict[str, Any]) -> None:
    """Draw one row per shown agent, top to bottom in id order."""
    save(figure(tl, data), path)


def figure(tl: Timeline, data: dict[str, Any]) -> Any:
    """The Gantt chart: each agent's row band holds its learning, sending and receiving lanes."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = len(tl.agents)
    fig, ax = plt.subplots(figsize=(10, max(2.5, 0.9 + 0.22 * rows)))
    for y in range(rows):
        if y % 2:
            ax.axhspan(y, y + 1, color="0.94", lw=0, zorder=0)
    ax.hlines(range(1, rows), 0, 1, transform=ax.get_yaxis_transform(), color="0.6", lw=0.5, zorder=1)
    for bar in bars(tl):
        cut = bar.lane == "interrupted"
        ax.broken_barh([(bar.start, bar.end - bar.start)], (bar.bottom, bar.height), facecolors=bar.colour,
                       edgecolor="tab:green" if cut else "white", lw=0.6 if bar.lane in ("learning", "interrupted") else 0,
                       hatch="////" if cut else None, alpha=0.3 if bar.lane == "down" else 0.95,
                       zorder=1 if bar.lane == "down" else 2, gid=f"{bar.lane}:{bar.agent}")
    ax.set_yticks([rows - 1 - r + 0.5 for r in range(rows)])
    ax.set_yticklabels([str(a) for a in tl.agents], fontsize=7 if rows <= 30 else 5)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(0, rows)
    ax.set_xlim(0, tl.horizon_s or 1.0)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("agent")
    n = data.get("agents", rows)
    shown = "" if rows >= n else f"; {rows} of {n} agents shown: crashed ones first, then active ones by id"
    ax.set_title(f"{titled(data)}: what each agent does over time (α={data['alpha']:g}{shown})", fontsize=9)
    legend = [Patch(facecolor=LEARNING_SHADES[0], label="learning own task (top lane; shades alternate by task)"),
              Patch(facecolor=COLOURS["interrupted"], edgecolor="tab:green", hatch="////",
                    label="learning cut short by a crash"),
              Patch(color=COLOURS["sending"], label="sending (middle lane)"),
              Patch(color=COLOURS["receiving"], label="receiving (bottom lane)"),
              Patch(color=COLOURS["down"], alpha=0.3, label="down")]
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig
