"""speedup_vs_alpha.png: a sweep's speedup against the price of a byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(path: Path, sweep: dict[str, Any]) -> None:
    """Draw speedup vs alpha with the N and 0.5 N lines."""
    import matplotlib.pyplot as plt

    rows = sorted(sweep["rows"], key=lambda r: r["alpha"])
    n = sweep["agents"]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([r["alpha"] for r in rows], [r["speedup"] for r in rows], "o-", label="speedup")
    ax.axhline(n, color="tab:green", ls="--", label=f"N = {n}")
    ax.axhline(n / 2, color="tab:orange", ls=":", label=f"0.5 N = {n / 2:g}")
    ax.set_xscale("log")
    speedups = [r["speedup"] for r in rows if r["speedup"]]
    if speedups and min(speedups) < n / 100:  # a wide range: a log axis keeps the tail readable
        ax.set_yscale("log")
    ax.set_xlabel("α (MACs per byte)")
    ax.set_ylabel("speedup (single agent / makespan)")
    ax.set_title(f"{sweep['scenario']}: speedup vs α ({sweep['topology']}, {sweep['protocol']})")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
