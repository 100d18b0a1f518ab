"""The command line's executor options, shared by `run`, `sweep` and `study`: `--executor`,
`--workers`, `--address`, checked before anything runs, and the executor they ask for. Light: the
executors (and Ray) load only when one is opened."""

from __future__ import annotations

import argparse
import contextlib
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
    if args.workers and args.executor == INLINE:
        raise SimError(f"--workers {args.workers}: learning inline runs in this process; add --executor local "
                       "(or ray) to learn on several workers")


@contextlib.contextmanager
def learning_executor(args: argparse.Namespace, learner_device: str) -> Iterator[Any]:
    """The executor that `run` and `sweep` learn on (None: inline). Locally, learning on `auto` or
    `cuda` on a machine with GPUs gets one worker per GPU, each seeing only its own."""
    if args.executor == INLINE:
        yield None
        return
    from sim.experiment.study.executors import create_executor
    from sim.experiment.study.executors.base import learns_on_gpu, visible_gpus

    gpus = visible_gpus() if args.executor == "local" else []
    gpus = gpus if learns_on_gpu(learner_device, gpus) else []
    workers = args.workers or (len(gpus) if gpus else None)
    with create_executor(args.executor, workers, args.address, gpus=gpus) as executor:
        yield executor
