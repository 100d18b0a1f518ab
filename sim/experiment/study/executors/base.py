"""The one small interface every executor offers: run learning jobs and cells (plain data in and
out, see sim.experiment.study.work) and yield each output as it finishes."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Iterator

from sim.errors import SimError
from sim.experiment.study.work import CellJob, CellOutput, LearnJob, LearnOutput


class ExecutorError(SimError):
    """An executor cannot start (Ray missing, a cluster that does not answer, a bad worker count): exit 2."""


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def visible_gpus() -> list[str]:
    """The GPUs this process may use, found without importing torch: CUDA_VISIBLE_DEVICES where set
    (ids up to the first invalid one, as CUDA reads it), else the NVIDIA driver's list of devices."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        ids = []
        for text in (t.strip() for t in listed.split(",")):
            if not text or text.startswith("-"):
                break
            ids.append(text)
        return ids
    driver = Path("/proc/driver/nvidia/gpus")
    return [str(i) for i in range(len(list(driver.iterdir())))] if driver.is_dir() else []


def learns_on_gpu(device: str, gpus: list[str]) -> bool:
    """Whether learning on `device` (learner.device) is shared out one worker per GPU: `auto` or
    `cuda` on a machine with GPUs (an explicit cuda:K, or cpu, keeps every worker where it says)."""
    return bool(gpus) and device.strip().lower() in ("auto", "cuda")


class Executor(ABC):
    """Runs a study's jobs on `workers` parallel workers."""

    name = "executor"
    # Whether learned results must travel with the jobs (workers may not share the driver's filesystem).
    ships_learning = False

    def __init__(self, workers: int | None) -> None:
        if workers is not None and workers < 1:
            raise ExecutorError(f"--workers {workers}: at least one worker is needed")
        self.workers = workers or default_workers()

    @abstractmethod
    def learn(self, jobs: list[LearnJob]) -> Iterator[LearnOutput]:
        """Run learning jobs; yield each output as it finishes."""

    @abstractmethod
    def cells(self, jobs: list[CellJob], entries: dict[str, list] | None = None) -> Iterator[CellOutput]:
        """Run cells (with their group's learned `entries` where learning ships); yield each as it finishes."""

    def finish(self) -> None:
        """No more jobs will come: begin stopping the workers without waiting (close() waits), so
        that the driver's last writing overlaps their shutdown."""

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
