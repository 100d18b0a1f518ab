"""full_knowledge.png: when each agent came to know every surviving task; agents that never did marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiment.naming import titled
from sim.experiment.plots.drawing import save

BARS_UP_TO = 60  # agents; above this a sorted step curve replaces the bars


def full_times(data: dict[str, Any]) -> tuple[list[tuple[int, float]], list[int], list[int]]:
    """(agent, time) of agents that reached full knowledge, sorted by time, then the agents that
    never did: alive ones, dead ones."""
    reached, alive_never, dead = [], [], []
    for p in data.get("per_agent", []):
        t = p.get("time_to_full_s")
        if not p.get("alive"):
            dead.append(p["agent"])
        elif t is None:
            alive_never.append(p["agent"])
        else:
            reached.append((p["agent"], float(t)))
    return sorted(reached, key=lambda r: (r[1], r[0])), alive_never, dead


def draw(path: Path, data: dict[str, Any]) -> None:
    """Bars per agent (sorted by time) for small runs, the sorted times as a step curve for large ones."""
    import matplotlib.pyplot as plt

    reached, never, dead = full_times(data)
    n = len(reached) + len(never) + len(dead)
    top = max([t for _, t in reached] + [data.get("makespan_s") or 0.0, 1e-9])
    fig, ax = plt.subplots(figsize=(9, 4))
    if n <= BARS_UP_TO:
        order = [a for a, _ in reached] + never + dead
        ax.bar(range(len(reached)), [t for _, t in reached], color="tab:blue", label=f"reached ({len(reached)})")
        if never:
            xs = range(len(reached), len(reached) + len(never))
            ax.scatter(xs, [top * 1.04] * len(never), marker="x", color="tab:orange", label=f"alive, never reached ({len(never)})")
        if dead:
            xs = range(len(reached) + len(never), n)
            ax.scatter(xs, [top * 1.04] * len(dead), marker="X", color="tab:red", label=f"dead at the end ({len(dead)})")
        ax.set_xticks(range(n))
        ax.set_xticklabels([str(a) for a in order], fontsize=7 if n <= 30 else 5, rotation=90 if n > 30 else 0)
        ax.set_xlabel("agent (sorted by time to full knowledge)")
    else:
        ax.step(range(1, len(reached) + 1), [t for _, t in reached], where="post", color="tab:blue",
                label=f"reached ({len(reached)})")
        if never or dead:
            ax.scatter([len(reached) + 1], [top * 1.04], marker="x", color="tab:red",
                       label=f"never reached: {len(never)} alive, {len(dead)} dead")
        ax.set_xlim(0, n + 1)
        ax.set_xlabel("agents, sorted by time to full knowledge")
    if data.get("makespan_s") is not None:
        ax.axhline(data["makespan_s"], color="0.3", ls="--", lw=0.8, label=f"makespan {data['makespan_s']:.3g} s")
    ax.set_ylim(0, top * 1.1)
    ax.set_ylabel("time to know every surviving task (s)")
    ax.set_title(f"{titled(data)}: time to full knowledge per agent (α={data['alpha']:g})", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    save(fig, path)
