"""Rich progress for the CLI: a callable that the runner reports events to.

The runner and the engine never print; they call `view(event, **fields)` and this view draws: tasks
learned of the total (with cache hits and ETA) while learning, then simulated time and deliveries
while simulating. Each line keeps its bar, count and ETA at any width from 80 columns up; only the
detail at its end is cut short (with an ellipsis) when the terminal is narrow.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.table import Column
from rich.text import Text

# Width of the bar: with the longest label ("evaluating (no oracle)"), count and ETA, it leaves
# about 20 columns of detail on an 80-column terminal.
BAR_WIDTH = 20
# What the evaluation line says when every bank was evaluated before (a sweep's later alphas).
REUSED = "reused"


class CountColumn(ProgressColumn):
    """m/n of a task, or the word a task sets in its `count` field (e.g. "reused") instead."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True, justify="right"))
        self._mofn = MofNCompleteColumn()

    def render(self, task: Task) -> Text:
        """The task's count text."""
        word = task.fields.get("count")
        return Text(word, style="progress.download") if word else self._mofn.render(task)


class DetailColumn(ProgressColumn):
    """The free-text detail of a task: the one column that shrinks (with an ellipsis) to fit."""

    def __init__(self) -> None:
        # no_wrap=False marks the table column as the one rich may narrow; the Text itself never wraps.
        super().__init__(table_column=Column(no_wrap=False, min_width=0))

    def render(self, task: Task) -> Text:
        """The task's `info` field on one line, cut with an ellipsis when it does not fit."""
        return Text(str(task.fields.get("info", "")), style="dim", no_wrap=True, overflow="ellipsis")


class EventView:
    """Context manager turning `view(event, **fields)` calls into rich bars, one `_on_<event>`
    method per event it draws (silent when the console is quiet). Runs and studies subclass it."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=BAR_WIDTH),
            CountColumn(),
            TimeRemainingColumn(),
            DetailColumn(),
            console=console,
            transient=False,
            disable=console.quiet,
        )

    def __enter__(self) -> "EventView":
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, name: str, /, **fields: Any) -> None:
        handler = getattr(self, f"_on_{name}", None)
        if handler is not None:
            handler(**fields)

    def _on_warning(self, message: str) -> None:
        # Warnings show even under --quiet (which hides only progress), like the CLI's own.
        console = self.console if not self.console.quiet else Console(stderr=True)
        console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


class ProgressView(EventView):
    """A run's events: tasks learned, simulated time and deliveries, banks evaluated."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self._learn: Any = None
        self._sim: Any = None
        self._eval: Any = None
        self._cached = 0
        self._deliveries = 0
        self._lessons = 0  # co-simulation: lessons answered so far in this simulation
        self._last_draw = 0.0

    def _on_learning_started(self, total: int, device: str) -> None:
        self._learn = self.progress.add_task(f"learning ({device})", total=total, info="")

    def _on_task_learned(self, task: int, agent: int, name: str, cached: bool, bytes: int) -> None:
        self._cached += cached
        self.progress.update(self._learn, advance=1, info=f"{self._cached} cached · agent {agent}: {name}")

    def _on_learning_done(self, seconds: float, cached: int) -> None:
        self.progress.update(self._learn, info=f"{cached} cached · {seconds:.1f} s")

    def _on_simulating(self, alpha: float) -> None:
        self._deliveries = 0
        self._lessons = 0
        self._sim = self.progress.add_task(f"simulating α={alpha:g}", total=None, info="", count="…")

    def _on_sim_event(self, event: Any) -> None:
        kind = getattr(event, "kind", "")
        if kind in ("delivered", "banked"):
            self._deliveries += 1
        now = time.monotonic()
        if now - self._last_draw > 0.1:  # redraw at most 10 times a second: events can be millions
            self._last_draw = now
            t = getattr(event, "time", 0.0)
            lessons = f" · {self._lessons:,} lessons" if self._lessons else ""
            self.progress.update(self._sim, info=f"t={t:,.1f} s sim · {self._deliveries:,} deliveries{lessons}")

    def _on_lesson_started(self, agent: int, task: int, bank: int) -> None:
        """Co-simulation: said at once, since learning a head from the bank may hold the run for seconds."""
        self.progress.update(self._sim, info=f"lesson {self._lessons + 1}: agent {agent} learns task {task} "
                                             f"from a bank of {bank}")

    def _on_lesson_done(self, agent: int, task: int) -> None:
        self._lessons += 1

    def _on_simulated(self, seconds: float) -> None:
        lessons = f" · {self._lessons:,} lessons" if self._lessons else ""
        self.progress.update(self._sim, total=1, completed=1, count="done",
                             info=f"{self._deliveries:,} deliveries{lessons} · {seconds:.2f} s wall")

    def _on_evaluating(self, total: int) -> None:
        if total == 0:  # every bank was evaluated at an earlier alpha: nothing to wait for
            self._eval = self.progress.add_task("evaluating (no oracle)", total=1, count=REUSED,
                                                info="every bank evaluated before")
            self.progress.update(self._eval, completed=1)  # through update, so that it counts as finished
            return
        self._eval = self.progress.add_task("evaluating (no oracle)", total=total, info="")

    def _on_evaluated(self, tasks: int) -> None:
        self.progress.update(self._eval, advance=1, info=f"bank of {tasks} tasks")

    def _on_checkpoints_evaluating(self, total: int) -> None:
        self._eval = self.progress.add_task("evaluating checkpoints", total=max(total, 1),
                                            count=None if total else REUSED, info="" if total else "every bank before")
        if not total:
            self.progress.update(self._eval, completed=1)

    def _on_checkpoint_evaluated(self, tasks: int) -> None:
        self.progress.update(self._eval, advance=1, info=f"bank of {tasks} tasks")
