"""The study's progress on the terminal: one bar for the study (cells done of the total, reused,
failed, ETA) with the last finished cell as its detail, under a learning bar while tasks are learned."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from sim.experiment.progress import EventView


class StudyView(EventView):
    """A study's events as two bars: learning jobs, then cells done (silent when the console is quiet)."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self._learn: Any = None
        self._study: Any = None
        self._reused = 0
        self._failed = 0
        self._tasks = 0
        self._fresh = 0

    def _counts(self) -> str:
        return f"{self._reused} reused · {self._failed} failed"

    def _on_study_started(self, total: int, reused: int, executor: str) -> None:
        self._reused = reused
        if reused == total:
            self.console.print(f"study: all {total} cells finished before (reused): nothing to run, no executor "
                               "started; rewriting the tables and figures", highlight=False, soft_wrap=True)
        else:
            self.console.print(f"study: {total} cells, {reused} finished before · {escape(executor)}",
                               highlight=False)
        self._study = self.progress.add_task("study", total=total, completed=reused, info=self._counts())

    def _on_learning_started(self, jobs: int, groups: int) -> None:
        if jobs:
            self._learn = self.progress.add_task("learning", total=jobs,
                                                 info=f"{groups} task group{'s' if groups != 1 else ''}")

    def _on_learning_job_done(self, tasks: int, fresh: int) -> None:
        self._tasks += tasks
        self._fresh += fresh
        self.progress.update(self._learn, advance=1, info=f"{self._tasks} tasks · {self._tasks - self._fresh} cached")

    def _on_cell_done(self, label: str, status: str, message: str, seconds: float) -> None:
        if status != "ok":
            self._failed += 1
            self.console.print(f"[red]cell failed[/] ({status}): {escape(label)}: {escape(message)}", highlight=False,
                               soft_wrap=True)
        self.progress.update(self._study, advance=1, info=f"{self._counts()} · {label} ({seconds:.1f} s)")
