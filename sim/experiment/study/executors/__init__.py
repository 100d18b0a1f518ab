"""Where learning jobs (of `run`, `sweep` and `study`) and a study's cells run: `local` (a process
pool) or `ray` (a local Ray instance or a cluster)."""

from __future__ import annotations

from sim.experiment.study.executors.base import Executor

EXECUTORS = ("local", "ray")


def create_executor(kind: str, workers: int | None = None, address: str | None = None,
                    gpus: list[str] | None = None) -> Executor:
    """The executor named `kind` with `workers` parallel jobs (default: one per core); the local one
    gives its workers `gpus` round robin (Ray hands out GPUs itself)."""
    if kind == "ray":
        from sim.experiment.study.executors.ray import RayExecutor

        return RayExecutor(workers, address)
    from sim.experiment.study.executors.local import LocalExecutor

    return LocalExecutor(workers, gpus)
