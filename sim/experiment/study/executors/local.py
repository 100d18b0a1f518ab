"""The local executor: a pool of worker processes on this machine (spawned, so they start clean);
each imports torch and the project once and serves many jobs. Workers share the driver's cache."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Iterator

from sim.experiment.study import work
from sim.experiment.study.executors.base import Executor


class LocalExecutor(Executor):
    """A concurrent.futures process pool of `workers` processes, one torch thread each."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        super().__init__(workers)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

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
