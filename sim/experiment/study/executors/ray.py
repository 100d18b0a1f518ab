"""The Ray executor: learning jobs and cells as Ray tasks, on a local Ray instance (no address) or an
existing cluster (`--address`). On a cluster, learned results come back to the driver's cache and
travel to the cells through Ray's object store (each worker process fetches and installs a group's
once), so workers need not share the driver's filesystem; a local instance's workers share this
machine's, so they learn into and read the driver's cache directly, as the local executor's do."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import replace
from typing import Any, Iterator

from sim.experiment.study import work
from sim.experiment.study.executors.base import Executor, ExecutorError

INSTALL = "pip install 'skill-sim[ray]'"
JOIN_TIMEOUT_S = 60.0  # how long joining a cluster may take before the command gives up


def import_ray() -> Any:
    """The ray module; ExecutorError (exit 2) with the install command when it is missing."""
    try:
        import ray
    except ImportError:
        raise ExecutorError(f"--executor ray: Ray is not installed; install it with {INSTALL}") from None
    return ray


def _learn(job: work.LearnJob) -> work.LearnOutput:
    return work.learn(job)


def _cell(job: work.CellJob, shipped: list | None) -> work.CellOutput:
    """One cell; `shipped`: [reference] to its group's learned results in the object store (in a list,
    so that Ray passes the reference: the worker fetches it only when it has not installed it yet)."""
    shop = work.workshop()
    if shipped and not shop.installed(job.group, job.cache_dir):
        import ray

        shop.install(job.group, job.cache_dir, ray.get(shipped[0]))
    return shop.run_cell(job)


def _warm() -> int:
    """Load torch and the project in a worker before its first job (while the driver plans the jobs)."""
    import os

    from sim.experiment import runner  # noqa: F401
    from agents import backbone  # noqa: F401  (torch, timm)

    work.workshop()
    return os.getpid()


class RayExecutor(Executor):
    """Ray tasks of one CPU each; `workers` caps how many run at once (default: every core)."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, ship: bool | None = None) -> None:
        """`ship`: send learned results through Ray (default: only when joined to a cluster at `address`)."""
        super().__init__(workers)
        self.ray = import_ray()
        self.address = address
        self.ships_learning = address is not None if ship is None else ship
        self._started = False
        self._stopping: threading.Thread | None = None
        self._connect()
        self._learn = self.ray.remote(num_cpus=1)(_learn)
        self._cell = self.ray.remote(num_cpus=1)(_cell)
        # Every worker loads torch and the project now, while the driver plans its jobs.
        self._warming = [self.ray.remote(num_cpus=1)(_warm).remote() for _ in range(self.workers)]

    def _connect(self) -> None:
        """Start a local instance, or join the cluster at `address` (its head must answer within
        JOIN_TIMEOUT_S; Ray itself would retry for minutes)."""
        ray = self.ray
        if ray.is_initialized():
            return
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if self.address is None:
            options["num_cpus"] = self.workers
            # Ray starts its workers at nice 15: on a busy machine they would get a fraction of the CPU
            # the local executor's workers get. The instance started here is this command's own.
            os.environ.setdefault("RAY_worker_niceness", "0")
        else:
            _reachable(self.address)
        where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
        try:
            ray.init(address=self.address, **options)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            raise ExecutorError(f"could not start or join {where}: {type(exc).__name__}: {exc}") from None
        self._started = True

    def learn(self, jobs: list[work.LearnJob]) -> Iterator[work.LearnOutput]:
        """Run learning jobs as Ray tasks (results shipped back where `ships_learning`), each asking
        for a GPU where it learns on one; yield outputs as they finish."""
        gpus = self.ray.cluster_resources().get("GPU", 0)
        calls = []
        for job in jobs:
            resources = learning_resources(job.learner.get("device", "auto"), gpus)
            job = replace(job, device="cuda" if resources["num_gpus"] else job.device)
            calls.append((self._learn.options(**resources), (job,)))
        yield from self._drain(calls)

    def cells(self, jobs: list[work.CellJob], entries: dict[str, list] | None = None) -> Iterator[work.CellOutput]:
        """Run cells as Ray tasks; each group's learned results (when shipped) go into the object store once."""
        refs = {group: [self.ray.put(found)] for group, found in (entries or {}).items()}
        yield from self._drain([(self._cell, (job, refs.get(job.group))) for job in jobs])

    def _drain(self, calls: list[tuple[Any, tuple]]) -> Iterator:
        """Submit every task to a local instance (sized to `workers` CPUs, it runs no more at once, and
        a worker never waits for the driver to hand it the next); on a cluster, which may have more
        CPUs than asked for, keep at most `workers` running."""
        limit = len(calls) if self.address is None else self.workers
        queue, pending = list(reversed(calls)), []
        try:
            while queue or pending:
                while queue and len(pending) < limit:
                    fn, args = queue.pop()
                    pending.append(fn.remote(*args))
                done, pending = self.ray.wait(pending, num_returns=1)
                yield self.ray.get(done[0])
        except BaseException:
            for ref in pending:
                self.ray.cancel(ref)
            raise

    def finish(self) -> None:
        """Begin stopping the local instance (or leaving the cluster) in the background: Ray's
        shutdown waits up to a second for each of its processes, time the driver spends writing."""
        if self._started and self._stopping is None:
            self._stopping = threading.Thread(target=self.ray.shutdown, name="ray-shutdown")
            self._stopping.start()

    def close(self, abort: bool = False) -> None:
        """Stop the local instance this executor started (a joined cluster is only left; its tasks
        were cancelled already when the study was interrupted)."""
        if self._stopping is not None:
            self._stopping.join()
        elif self._started:
            self.ray.shutdown()
        self._started = False

    def describe(self) -> str:
        """Executor, workers and where."""
        return f"ray · {self.workers} workers · {self.address or 'local instance'}"


def learning_resources(device: str, cluster_gpus: float) -> dict[str, float]:
    """What one learning job asks Ray for: a GPU when it learns on cuda (`cuda`, `cuda:K`, or `auto`
    on a cluster with GPUs; Ray then sets the task's CUDA_VISIBLE_DEVICES, so it learns on `cuda`),
    else one CPU."""
    text = device.strip().lower()
    on_gpu = text.startswith("cuda") or (text == "auto" and cluster_gpus > 0)
    return {"num_cpus": 1, "num_gpus": 1} if on_gpu else {"num_cpus": 1, "num_gpus": 0}


def _reachable(address: str) -> None:
    """Refuse, within JOIN_TIMEOUT_S, a `host:port` address whose head node does not answer."""
    if address in ("auto", "local") or address.startswith("ray://"):
        return
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ExecutorError(f"--address {address!r}: expected host:port of the Ray head node (e.g. 10.0.0.5:6379), "
                         "ray://host:10001 or 'auto'")
    try:
        socket.create_connection((host, int(port)), timeout=JOIN_TIMEOUT_S).close()
    except OSError as exc:
        raise ExecutorError(f"--address {address}: no Ray head node answers there within {JOIN_TIMEOUT_S:.0f} s "
                         f"({exc}); check the address and that the cluster is up") from None
