"""The scenario's `evaluation` section: accuracy over simulated time.

At each checkpoint every chosen agent's bank, as the run's record has it at that moment (its own
tasks once learned, packages once merged, nothing after a crash wiped it), is evaluated on all
tasks' test sets with no task oracle (sim.experiment.checkpoints). Absent: only the final banks are.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from sim.config import STRICT
from sim.errors import ScenarioError

# More checkpoints than this is a typo (every_s far too small), not a curve anyone can read.
MAX_CHECKPOINTS = 10_000


class AgentSample(BaseModel):
    """`sample: K`: K agents drawn once from the scenario's seed, the same at every checkpoint."""

    model_config = STRICT

    sample: int = Field(ge=1)


class EvaluationSection(BaseModel):
    """When the banks are evaluated (`checkpoints` or `every_s`, one of them), and whose."""

    model_config = STRICT

    # Simulated seconds, >= 0 and increasing; a time after the run's end sees its final banks.
    checkpoints: list[float] | None = None
    # A checkpoint every so many simulated seconds from 0 to `until_s`, and at `until_s` itself.
    every_s: float | None = Field(None, gt=0)
    # Where `every_s` stops; None: the run's makespan (so each run spans its own [0, makespan]).
    # Give it (or explicit checkpoints) to compare runs over one span (studies: accuracy_auc).
    until_s: float | None = Field(None, gt=0)
    # "all": every agent; {sample: K}: K of them (K <= agents.count).
    agents: Literal["all"] | AgentSample = "all"
    # Also list each evaluated agent's accuracy at every checkpoint (null while it is down).
    per_agent: bool = False

    @field_validator("agents", mode="before")
    @classmethod
    def _agents(cls, value: object) -> object:
        if value == "all":
            return value
        sample = value.get("sample") if isinstance(value, dict) else None
        if isinstance(sample, int) and not isinstance(sample, bool) and sample < 1:
            raise ValueError(f"sample = {sample}: sample at least 1 agent, or write `agents: all`")
        if isinstance(value, dict):
            return value
        raise ValueError("write `agents: all` or `agents: {sample: K}`")

    @field_validator("checkpoints")
    @classmethod
    def _times(cls, value: list[float] | None) -> list[float] | None:
        if value is not None:
            cls._check_times(value)
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> "EvaluationSection":
        if (self.checkpoints is None) == (self.every_s is None):
            given = "both checkpoints and every_s are" if self.checkpoints is not None else "neither is"
            raise ValueError(f"give one of `checkpoints: [t1, t2, ...]` or `every_s: S`; {given} given")
        if self.until_s is not None and self.every_s is None:
            raise ValueError("until_s goes with every_s (explicit checkpoints say their own end); drop until_s")
        if self.every_s is not None and self.until_s is not None and self.until_s / self.every_s > MAX_CHECKPOINTS:
            raise ValueError(f"every_s = {self.every_s!r} up to until_s = {self.until_s!r} makes more than "
                             f"{MAX_CHECKPOINTS} checkpoints; take a larger every_s")
        return self

    @staticmethod
    def _check_times(times: list[float]) -> None:
        if not times:
            raise ValueError("checkpoints is empty; list at least one simulated time, e.g. [0.5, 1.0]")
        if len(times) > MAX_CHECKPOINTS:
            raise ValueError(f"checkpoints has {len(times)} times; at most {MAX_CHECKPOINTS}")
        for i, t in enumerate(times):
            if t < 0:
                raise ValueError(f"checkpoints[{i}] = {t!r}: simulated times are >= 0")
            if i and t <= times[i - 1]:
                raise ValueError(f"checkpoints[{i}] = {t!r} is not after checkpoints[{i - 1}] = {times[i - 1]!r}; "
                                 "list the times in increasing order, each once")

    def times(self, makespan_s: float) -> list[float]:
        """The checkpoints of a run that ended at `makespan_s`: as listed, or 0, every_s, 2 every_s,
        ... up to until_s (default: the makespan), which closes the list."""
        if self.checkpoints is not None:
            return [float(t) for t in self.checkpoints]
        end = self.until_s if self.until_s is not None else makespan_s
        if not math.isfinite(end) or end <= 0:
            return [0.0]
        steps = int(math.floor(end / self.every_s + 1e-9))
        if steps > MAX_CHECKPOINTS:
            raise ScenarioError(f"evaluation.every_s = {self.every_s!r} makes {steps + 1} checkpoints over this run's "
                                f"{end:g} s (at most {MAX_CHECKPOINTS}); take a larger every_s or give until_s")
        times = [k * self.every_s for k in range(steps + 1)]
        if end - times[-1] > 1e-9 * end:
            times.append(float(end))
        return times
