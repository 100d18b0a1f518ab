"""coverage.png: coverage among survivors over simulated time, with crashes, recoveries and
link outages marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiment.plots.drawing import save
from sim.experiment.plots.events import Incidents
from sim.experiment.plots.intervals import agents_down, outage_spans

LINES_UP_TO = 40  # crashes + recoveries drawn as lines; more are shown as a count of agents down

YLABEL = "coverage: known (survivor, task) pairs\n/ (survivors × all tasks)"


def draw(path: Path, curve: list[list[float]], data: dict[str, Any], incidents: Incidents) -> None:
    """Draw the coverage step curve of one run (metrics' definition, ending at coverage_final)."""
    import matplotlib.pyplot as plt

    times = [c[0] for c in curve]
    fracs = [c[1] for c in curve]
    horizon = max(times + [data.get("makespan_s") or 0.0])
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, (start, end) in enumerate(outage_spans(incidents, horizon)):
        ax.axvspan(start, end, color="tab:orange", alpha=0.18, lw=0, label="≥ 1 link down" if i == 0 else None)
    handles: list[Any] = []
    if len(incidents.crashed) + len(incidents.recovered) <= LINES_UP_TO:
        if incidents.crashed:
            ax.vlines([t for t, _ in incidents.crashed], 0, 1.02, color="tab:red", lw=1.0,
                      label=f"crash ({len(incidents.crashed)})")
        if incidents.recovered:
            ax.vlines([t for t, _ in incidents.recovered], 0, 1.02, color="tab:green", lw=1.0, ls="--",
                      label=f"recovery ({len(incidents.recovered)})")
    else:
        steps = agents_down(incidents)
        right = ax.twinx()
        (line,) = right.step([s[0] for s in steps] + [horizon], [s[1] for s in steps] + [steps[-1][1]], where="post",
                             color="tab:red", lw=0.9, alpha=0.7,
                             label=f"agents down ({len(incidents.crashed)} crashes, {len(incidents.recovered)} recoveries)")
        right.set_ylabel("agents down", color="tab:red")
        right.set_ylim(0, max(1, max(s[1] for s in steps)) * 1.05)
        handles.append(line)
    ax.step(times + [horizon], fracs + fracs[-1:], where="post", color="tab:blue", lw=1.6, label="coverage", zorder=3)
    survivors = sum(bool(p.get("alive")) for p in data.get("per_agent", []))
    final = data.get("coverage_final")
    if final is not None:
        ax.axhline(final, color="tab:blue", ls=":", lw=0.8, label=f"final {100 * final:.1f} % (as in the summary)")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel(YLABEL)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    note = "" if incidents.complete else "; incidents: the first listed in results.json only"
    ax.set_title(f"{data['scenario']}: coverage over time (α={data['alpha']:g}; "
                 f"{survivors} survivors = alive at the end, {data.get('tasks', '?')} tasks{note})", fontsize=9)
    ax.grid(alpha=0.3)
    own, labels = ax.get_legend_handles_labels()
    ax.legend(handles=own + handles, loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8, framealpha=0.9)
    save(fig, path)

