"""The local executor: a pool of worker processes on this machine (spawned, so they start clean);
each imports torch and the project once and serves many jobs. Workers share the driver's cache.
On a machine with GPUs each worker is given one (CUDA_VISIBLE_DEVICES, set before torch loads),
round robin, so that learning on `auto` or `cuda` puts one worker on each device."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, Iterator

from sim.experiment.study import work
from sim.experiment.study.executors.base import Executor


def _start_worker(counter: Any, gpus: tuple[str, ...]) -> None:
    """A pool worker's first act: take the next worker number and, where there are GPUs, its GPU."""
    with counter.get_lock():
        number = counter.value
        counter.value += 1
    if gpus:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus[number % len(gpus)]


class LocalExecutor(Executor):
    """A concurrent.futures process pool of `workers` processes, one torch thread each; worker i
    sees only GPU `gpus[i % len(gpus)]` (none given: every worker sees what this process sees)."""

    name = "local"

    def __init__(self, workers: int | None = None, gpus: list[str] | None = None) -> None:
        super().__init__(workers)
        self.gpus = tuple(gpus or ())
        spawn = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=spawn, initializer=_start_worker,
                                         initargs=(spawn.Value("i", 0), self.gpus))

    def learn(self, jobs: list[work.LearnJob]) -> Iterator[work.LearnOutput]:
        """Run learning jobs in the pool; yield outputs as they finish."""
        yield from self._drain([self._pool.submit(work.learn, job) for job in jobs])

    def cells(self, jobs: list[work.CellJob], entries: dict[str, list] | None = None) -> Iterator[work.CellOutput]:
        """Run cells in the pool (the shared filesystem carries the learning); yield as they finish."""
        yield from self._drain([self._pool.submit(work.run_cell, job) for job in jobs])

    def _drain(self, futures: list[Future]) -> Iterator:
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def close(self, abort: bool = False) -> None:
        """Shut the pool down, dropping jobs not yet started; `abort` also stops the running ones."""
        if abort:
            workers = list(getattr(self._pool, "_processes", {}).values())  # the pool offers no terminate
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in workers:
                process.terminate()
            for process in workers:
                process.join(5)
            return
        self._pool.shutdown(wait=True, cancel_futures=True)

    def describe(self) -> str:
        """Executor and workers, and the GPUs they share out."""
        gpus = f" · GPUs {','.join(self.gpus)}" if self.gpus else ""
        return super().describe() + gpus
