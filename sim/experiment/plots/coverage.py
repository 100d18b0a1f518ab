"""coverage.png: the fraction of agent-task pairs known over simulated time."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(path: Path, coverage: list[list[float]], data: dict[str, Any]) -> None:
    """Draw the coverage step curve of one run."""
    import matplotlib.pyplot as plt

    times = [c[0] for c in coverage]
    fracs = [c[1] for c in coverage]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.step(times, fracs, where="post")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("fraction of agent-task pairs known")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{data['scenario']}: coverage over time (α={data['alpha']:g})")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
