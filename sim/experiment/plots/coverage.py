"""coverage.png: coverage among survivors over simulated time, with crashes, recoveries and
link outages marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiment.naming import titled
from sim.experiment.plots.drawing import save
from sim.experiment.plots.events import Incidents, mark_crashes
from sim.experiment.plots.intervals import agents_down, outage_spans

LINES_UP_TO = 40  # crashes + recoveries drawn as lines; more: a count of agents down in a panel below

YLABEL = "coverage: known (survivor, task) pairs\n/ (survivors × all tasks)"


def draw(path: Path, curve: list[list[float]], data: dict[str, Any], incidents: Incidents) -> None:
    """Draw the coverage step curve of one run (metrics' definition, ending at coverage_final)."""
    save(figure(curve, data, incidents), path)


def figure(curve: list[list[float]], data: dict[str, Any], incidents: Incidents) -> Any:
    """The coverage figure; under churn (many crashes) the agents-down count gets its own small
    panel below, sharing the time axis, so it does not hide the coverage curve."""
    import matplotlib.pyplot as plt

    times = [c[0] for c in curve]
    fracs = [c[1] for c in curve]
    horizon = max(times + [data.get("makespan_s") or 0.0])
    churn = len(incidents.crashed) + len(incidents.recovered) > LINES_UP_TO
    if churn:
        fig, (ax, below) = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True, gridspec_kw={"height_ratios": (3, 1)})
    else:
        fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, (start, end) in enumerate(outage_spans(incidents, horizon)):
        ax.axvspan(start, end, color="tab:orange", alpha=0.18, lw=0, label="≥ 1 link down" if i == 0 else None)
    if not churn:
        mark_crashes(ax, incidents, recovery_style="--")
    else:
        steps = agents_down(incidents)
        below.step([s[0] for s in steps] + [horizon], [s[1] for s in steps] + [steps[-1][1]], where="post",
                   color="tab:red", lw=0.9,
                   label=f"agents down ({len(incidents.crashed)} crashes, {len(incidents.recovered)} recoveries)")
        below.set_ylabel("agents down", color="tab:red", fontsize=8)
        below.set_ylim(0, max(1, max(s[1] for s in steps)) * 1.05)
        below.set_xlabel("simulated time (s)")
        below.grid(alpha=0.3)
        below.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, framealpha=0.9)
    ax.step(times + [horizon], fracs + fracs[-1:], where="post", color="tab:blue", lw=1.6, label="coverage", zorder=3)
    survivors = sum(bool(p.get("alive")) for p in data.get("per_agent", []))
    final = data.get("coverage_final")
    if final is not None:
        ax.axhline(final, color="tab:blue", ls=":", lw=0.8, label=f"final {100 * final:.1f} % (as in the summary)")
    if not churn:
        ax.set_xlabel("simulated time (s)")
    ax.set_ylabel(YLABEL)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    note = "" if incidents.complete else "; incidents: the first listed in results.json only"
    ax.set_title(f"{titled(data)}: coverage over time (α={data['alpha']:g}; "
                 f"{survivors} survivors = alive at the end, {data.get('tasks', '?')} tasks{note})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, framealpha=0.9)
    return fig
