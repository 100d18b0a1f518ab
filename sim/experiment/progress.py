"""Rich progress for the CLI: a callable that the runner reports events to.

The runner and the engine never print; they call `view(event, **fields)` and this view draws: tasks
learned of the total (with cache hits and ETA) while learning, then simulated time and deliveries
while simulating.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class ProgressView:
    """Context manager turning runner events into rich progress bars (silent when quiet)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            disable=console.quiet,
        )
        self._learn: Any = None
        self._sim: Any = None
        self._eval: Any = None
        self._cached = 0
        self._deliveries = 0
        self._last_draw = 0.0

    def __enter__(self) -> "ProgressView":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, name: str, /, **fields: Any) -> None:
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(**fields)

    def _on_warning(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/] {message}")

    def _on_learning_started(self, total: int, device: str) -> None:
        self._learn = self.progress.add_task(f"learning ({device})", total=total, info="")

    def _on_task_learned(self, task: int, agent: int, name: str, cached: bool, bytes: int) -> None:
        self._cached += cached
        info = f"{self._cached} cached · agent {agent}: {name}"
        self.progress.update(self._learn, advance=1, info=info[:60])

    def _on_learning_done(self, seconds: float, cached: int) -> None:
        self.progress.update(self._learn, info=f"{cached} cached · {seconds:.1f} s")

    def _on_simulating(self, alpha: float) -> None:
        self._deliveries = 0
        self._sim = self.progress.add_task(f"simulating α={alpha:g}", total=None, info="")

    def _on_sim_event(self, event: Any) -> None:
        kind = getattr(event, "kind", "")
        if kind in ("delivered", "banked"):
            self._deliveries += 1
        now = time.monotonic()
        if now - self._last_draw > 0.1:  # redraw at most 10 times a second: events can be millions
            self._last_draw = now
            t = getattr(event, "time", 0.0)
            self.progress.update(self._sim, info=f"t={t:,.1f} s sim · {self._deliveries:,} deliveries")

    def _on_simulated(self, seconds: float) -> None:
        self.progress.update(self._sim, total=1, completed=1, info=f"{self._deliveries:,} deliveries · {seconds:.2f} s wall")

    def _on_evaluating(self, total: int) -> None:
        self._eval = self.progress.add_task("evaluating (no oracle)", total=total, info="")

    def _on_evaluated(self, tasks: int) -> None:
        self.progress.update(self._eval, advance=1, info=f"bank of {tasks} tasks")
