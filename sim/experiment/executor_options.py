"""The command line's executor options, shared by `run`, `sweep` and `study`: `--executor`,
`--workers`, `--address`, checked before anything runs, and the executor they ask for. Light: the
executors (and Ray) load only when one is opened."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import sys
from typing import Any, Iterator

from sim.errors import SimError

INLINE = "inline"


def add_options(parser: argparse.ArgumentParser, *, inline: bool) -> None:
    """Register --executor, --workers and --address; `inline` (run, sweep): learning may stay in this
    process, the default."""
    if inline:
        parser.add_argument("--executor", choices=(INLINE, "local", "ray"), default=INLINE,
                            help="where the missing tasks are learned: inline, in this process (default); local: "
                                 "a process pool (one worker per core, or per GPU when learning on one); ray: Ray "
                                 "tasks (pip install 'skill-sim[ray]'), results written back to this cache")
    else:
        parser.add_argument("--executor", choices=("local", "ray"), default="local",
                            help="local: a process pool on this machine (default); ray: Ray tasks "
                                 "(pip install 'skill-sim[ray]')")
    parser.add_argument("--workers", type=positive, help="parallel workers (default: one per core, or per GPU)")
    parser.add_argument("--address", help="--executor ray: join the Ray cluster at this address "
                                          "(default: start a local instance)")


def positive(text: str) -> int:
    """A --workers value: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of workers, e.g. 2") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least one worker")
    return value


def check(args: argparse.Namespace) -> None:
    """Refuse options that the chosen executor would ignore (exit 2), before anything loads."""
    if args.address and args.executor != "ray":
        raise SimError(f"--address {args.address}: only --executor ray joins a cluster; add --executor ray")
    if args.executor == "ray" and not _ray_installed():  # said now, not when (or if) learning starts
        from sim.experiment.study.executors.ray import INSTALL

        raise SimError(f"--executor ray: Ray is not installed; install it with {INSTALL}")
    if args.workers and args.executor == INLINE:
        raise SimError(f"--workers {args.workers}: learning inline runs in this process; add --executor local "
                       "(or ray) to learn on several workers")


class OnDemand:
    """The executor `run` and `sweep` asked for, started only when a task needs learning: a warm
    cache learns nothing, so it starts no process pool and no Ray instance."""

    def __init__(self, kind: str, workers: int | None, address: str | None, gpus: list[str]) -> None:
        self._kind, self._workers, self._address, self._gpus = kind, workers, address, gpus
        self._executor: Any = None

    def started(self) -> Any:
        """The executor itself, started on first use."""
        if self._executor is None:
            from sim.experiment.study.executors import create_executor

            self._executor = create_executor(self._kind, self._workers, self._address, gpus=self._gpus)
        return self._executor

    def describe(self) -> str:
        """A few words for the progress line, said without starting the executor."""
        if self._executor is not None:
            return self._executor.describe()
        workers = f" · {self._workers} worker{'s' if self._workers != 1 else ''}" if self._workers else ""
        return f"{self._kind}{workers}"

    def __getattr__(self, name: str) -> Any:  # learn, ships_learning, name, workers, gpus: the executor's own
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.started(), name)

    def close(self, abort: bool = False) -> None:
        """Stop the executor if it was started."""
        if self._executor is not None:
            self._executor.close(abort=abort)


def _ray_installed() -> bool:
    """Whether `import ray` would find Ray, without importing it (about a second)."""
    if "ray" in sys.modules:
        return sys.modules["ray"] is not None
    return importlib.util.find_spec("ray") is not None


@contextlib.contextmanager
def learning_executor(args: argparse.Namespace, learner_device: str) -> Iterator[Any]:
    """The executor that `run` and `sweep` learn on (None: inline), started when a task is to be
    learned. Locally, learning on `auto` or `cuda` on a machine with GPUs gets one worker per GPU,
    each seeing only its own."""
    if args.executor == INLINE:
        yield None
        return
    from sim.experiment.study.executors.base import learns_on_gpu, visible_gpus

    gpus = visible_gpus() if args.executor == "local" else []
    gpus = gpus if learns_on_gpu(learner_device, gpus) else []
    workers = args.workers or (len(gpus) if gpus else None)
    executor = OnDemand(args.executor, workers, args.address, gpus)
    failed = True
    try:
        yield executor
        failed = False
    finally:
        executor.close(abort=failed)  # an interrupt does not wait for the jobs in flight
