"""The one small interface every executor offers: run learning jobs and cells (plain data in and
out, see sim.experiment.study.work) and yield each output as it finishes."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Iterator

from sim.experiment.study.work import CellJob, CellOutput, LearnJob, LearnOutput


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Executor(ABC):
    """Runs a study's jobs on `workers` parallel workers."""

    name = "executor"
    # Whether learned results must travel with the jobs (workers may not share the driver's filesystem).
    ships_learning = False

    def __init__(self, workers: int | None) -> None:
        self.workers = workers or default_workers()

    @abstractmethod
    def learn(self, jobs: list[LearnJob]) -> Iterator[LearnOutput]:
        """Run learning jobs; yield each output as it finishes."""

    @abstractmethod
    def cells(self, jobs: list[CellJob], entries: dict[str, list] | None = None) -> Iterator[CellOutput]:
        """Run cells (with their group's learned `entries` where learning ships); yield each as it finishes."""

    @abstractmethod
    def close(self, abort: bool = False) -> None:
        """Stop the workers (pending jobs are dropped; with `abort`, running ones too)."""

    def describe(self) -> str:
        """A few words for the progress line and study.json."""
        return f"{self.name} · {self.workers} worker{'s' if self.workers != 1 else ''}"

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(abort=kind is not None)  # an interrupt does not wait for the cells in flight
