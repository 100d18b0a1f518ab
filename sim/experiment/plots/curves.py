"""The figures of `skill-sim curves`, after the paper's Figs 4-8: accuracy against the number of
tasks learned (task 1, the first 10 normalised, the task mapper, the average with and without an
oracle) and the per-task accuracy bars after the last task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.experiment.plots.drawing import save

FILES = ("fig4_task1.png", "fig5_first10.png", "fig6_mapper.png", "fig7_per_task.png", "fig8_average.png")


def draw_all(out: Path, data: dict[str, Any]) -> list[Path]:
    """Draw every figure into `out`; return their paths."""
    rows = data["rows"]
    title = f"{data['scenario']}: {data['backbone']}, {data['mapper']}{' + BB' if data['bb'] else ''}"
    lines = {
        FILES[0]: ([("task1_accuracy", "task 1, no oracle", "tab:blue")], "accuracy on task 1"),
        FILES[1]: ([("first10_normalised", "first 10 tasks", "tab:purple")],
                   "accuracy / accuracy when learned\n(mean over the first 10 tasks)"),
        FILES[2]: ([("mapper_accuracy", "task mapper", "tab:green")], "mapper accuracy on all tasks so far"),
        FILES[4]: ([("accuracy", "no oracle", "tab:blue"), ("accuracy_oracle", "with oracle", "tab:gray")],
                   "average accuracy on all tasks so far"),
    }
    paths = []
    for name, (series, ylabel) in lines.items():
        save(_lines(rows, series, ylabel, title, normalised=name == FILES[1]), out / name)
        paths.append(out / name)
    save(_bars(data["per_task"], title), out / FILES[3])
    paths.append(out / FILES[3])
    return sorted(paths)


def _lines(rows: list[dict[str, Any]], series: list[tuple[str, str, str]], ylabel: str, title: str,
           normalised: bool = False) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    x = [r["tasks_learned"] for r in rows]
    for key, label, colour in series:
        y = [r[key] for r in rows]
        ax.plot(x, y, marker="o" if len(x) <= 40 else None, ms=3, lw=1.5, color=colour, label=label)
    if normalised:
        ax.axhline(1.0, color="black", lw=0.8, ls=":", label="nothing forgotten")
    else:
        ax.set_ylim(0, 1.02)
    ax.set_xlabel("number of tasks learned")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0.5, max(x) + 0.5)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig


def _bars(per_task: list[dict[str, Any]], title: str) -> Any:
    import matplotlib.pyplot as plt
    import numpy as np

    n = len(per_task)
    fig, ax = plt.subplots(figsize=(min(max(7, 0.16 * n + 2), 24), 4))
    x = np.arange(n)
    ax.bar(x - 0.2, [t["accuracy_oracle"] for t in per_task], 0.4, color="tab:gray", label="with oracle")
    ax.bar(x + 0.2, [t["accuracy"] for t in per_task], 0.4, color="tab:blue", label="no oracle")
    if n <= 30:
        names = [t["task_name"] if len(t["task_name"]) <= 40 else t["task_name"][:39] + "…" for t in per_task]
        ax.set_xticks(x, names, rotation=90, fontsize=7)
    else:
        ax.set_xlabel("task (in learning order)")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel(f"accuracy after all {n} tasks")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title(title, fontsize=9)
    return fig
