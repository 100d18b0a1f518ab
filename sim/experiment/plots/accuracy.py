"""accuracy.png: the population's accuracy (no task oracle) over simulated time, with the coverage
curve on the same 0..1 axis and crashes and recoveries marked (runs with an `evaluation` section)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiment.naming import titled
from sim.experiment.plots.drawing import save
from sim.experiment.plots.events import Incidents, mark_crashes

AGENT_LINES_UP_TO = 60  # per-agent curves drawn thin; more would be a grey smear
MARKS_UP_TO = 40  # crash and recovery lines; more: left out (coverage.png counts them)


def draw(path: Path, data: dict[str, Any], incidents: Incidents) -> None:
    """Draw accuracy over time from results.json's accuracy_over_time and simulation.coverage."""
    save(figure(data, incidents), path)


def figure(data: dict[str, Any], incidents: Incidents) -> Any:
    """Mean accuracy of the agents up at each checkpoint, its min-max band, each agent's curve where
    listed, and coverage (known survivor-task pairs) as a step curve."""
    import matplotlib.pyplot as plt

    aot = data["accuracy_over_time"]
    rows = aot["checkpoints"]
    times = [r["time_s"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    per_agent = aot.get("per_agent") or {}
    if 0 < len(per_agent) <= AGENT_LINES_UP_TO:
        for i, values in enumerate(per_agent.values()):
            ax.plot(times, [float("nan") if v is None else v for v in values], color="tab:gray", lw=0.6,
                    alpha=0.5, label="one agent (gap: down)" if i == 0 else None)
    shown = [(t, r) for t, r in zip(times, rows) if r["mean"] is not None]
    if shown:
        ts = [t for t, _ in shown]
        ax.fill_between(ts, [r["min"] for _, r in shown], [r["max"] for _, r in shown], color="tab:green",
                        alpha=0.18, lw=0, label="min-max over agents up")
        dots = "o" if len(ts) <= 60 else None
        ax.plot(ts, [r["mean"] for _, r in shown], color="tab:green", lw=1.8, marker=dots, ms=2.5,
                label=f"accuracy, mean (AUC {aot['auc']:.3f})", zorder=3)
    curve = data.get("simulation", {}).get("coverage") or []
    if curve:
        horizon = max([c[0] for c in curve] + times)
        ax.step([c[0] for c in curve] + [horizon], [c[1] for c in curve] + [curve[-1][1]], where="post",
                color="tab:blue", lw=1.2, ls="--", label="coverage")
    if len(incidents.crashed) + len(incidents.recovered) <= MARKS_UP_TO:
        mark_crashes(ax, incidents, recovery_style=":")
    final = data.get("accuracy")
    if final is not None:
        ax.axhline(final, color="tab:green", ls=":", lw=0.8, label=f"final {100 * final:.1f} % (as in the summary)")
    who = "all agents" if aot.get("agents") == "all" else f"{len(aot.get('agents') or [])} sampled agents"
    ax.set_title(f"{titled(data)}: accuracy over time, no task oracle (α={data['alpha']:g}; {who}, "
                 f"{len(rows)} checkpoints)", fontsize=9)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("accuracy on all tasks' test sets\n(mean over agents up) · coverage")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, framealpha=0.9)
    return fig
