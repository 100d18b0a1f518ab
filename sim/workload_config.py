"""The scenario's `workload` section: a cost-only workload (counted costs given, nothing learned).

For network-only studies and replays (the paper's Table 2): instead of `tasks` + `learner`, every
task's teacher MACs, package bytes and student MACs are given, as numbers or as seeded
distributions spelled like link attributes (topologies.links):

    {dist: uniform, low: a, high: b}
    {dist: lognormal, mean: m, sigma: s}   m is the mean of the values themselves
    {dist: normal, mean: m, std: s}        samples clipped at the field's floor
    {dist: choice, values: [v1, v2, ...]}
"""

from __future__ import annotations

import math
import numbers
from typing import Annotated, Any, Literal, Mapping, Union

from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from sim.config import STRICT

# The smallest value of each cost: a package has at least a header byte (sim.workload.TaskWork).
COST_FLOORS = {"teacher_macs": 0.0, "package_bytes": 1.0, "student_macs": 0.0, "student_batch_macs": 0.0}
DIST_KEYS = {
    "uniform": ("low", "high"),
    "lognormal": ("mean", "sigma"),
    "normal": ("mean", "std"),
    "choice": ("values",),
}

Cost = Union[float, dict[str, Any]]


def _number(name: str, key: str, value: object, floor: float) -> float:
    """`value` as a float when it is a finite number >= floor; ValueError naming it otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < floor:
        where = name if key == "" else f"{name} {key}"
        raise ValueError(f"{where} = {value!r}: must be a finite number >= {floor:g}")
    return float(value)


def validate_cost(name: str, spec: Cost) -> Cost:
    """Check one cost field: a number >= its floor, or a distribution whose values are (as spelled
    in the module docstring); ValueError naming the field, the value and what is allowed."""
    floor = COST_FLOORS[name]
    if not isinstance(spec, Mapping):
        return _number(name, "", spec, floor)
    dist = spec.get("dist")
    if dist not in DIST_KEYS:
        raise ValueError(f"{name}: unknown dist {dist!r}; choose one of {list(DIST_KEYS)}, or give a number")
    allowed = {"dist", *DIST_KEYS[dist]}
    missing = [k for k in DIST_KEYS[dist] if k not in spec]
    extra = sorted(set(spec) - allowed)
    if missing or extra:
        raise ValueError(f"{name}: dist {dist!r} takes keys {sorted(allowed)}"
                         + (f"; missing {missing}" if missing else "") + (f"; unknown {extra}" if extra else ""))
    if dist == "uniform":
        low, high = _number(name, "low", spec["low"], floor), _number(name, "high", spec["high"], floor)
        if low > high:
            raise ValueError(f"{name}: uniform low={low!r} > high={high!r}; swap them")
    elif dist == "lognormal":
        if _number(name, "mean", spec["mean"], floor) <= 0:
            raise ValueError(f"{name} lognormal mean = {spec['mean']!r}: must be > 0")
        _number(name, "sigma", spec["sigma"], 0.0)
    elif dist == "normal":
        _number(name, "mean", spec["mean"], floor)
        _number(name, "std", spec["std"], 0.0)
    else:
        values = spec["values"]
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"{name}: choice values = {values!r}; give a non-empty list of numbers")
        for v in values:
            _number(name, "values", v, floor)
    return spec


class _Section(BaseModel):
    """Base: sim.config.STRICT (unknown keys are errors, strict types, no inf or nan)."""

    model_config = STRICT


class SyntheticTask(_Section):
    """One task of an explicit synthetic list: who learns it and what it costs."""

    owner: int = Field(ge=0)  # the agent that learns it (tasks of one owner: learnt in list order)
    macs: float = Field(ge=0)  # teacher MACs to learn it
    bytes: float = Field(ge=1)  # its share package on the wire
    student_macs: float = Field(default=0.0, ge=0)  # a receiver's MACs to merge the package
    # a receiver's MACs once per merge batch holding the package (a Mahalanobis inversion): packages
    # landing together pay it once (sim.engine.merging; SimPy engine only)
    student_batch_macs: float = Field(default=0.0, ge=0)


class SyntheticWorkload(_Section):
    """Cost-only workload, instead of tasks + learner: nothing is learned or evaluated (accuracy is
    null), the given costs are scheduled. `tasks`: a count (owners from agents.assignment, costs
    drawn per task from teacher_macs, package_bytes, student_macs: numbers or seeded distributions
    like link attributes) or an explicit list [{owner, macs, bytes, student_macs}]."""

    kind: Literal["synthetic"] = "synthetic"
    # One branch by the value's type, so a bad list is not also reported as a bad count (the tags
    # are named as pydantic names its own type branches, which error messages leave out).
    tasks: Annotated[Union[Annotated[int, Field(ge=1), Tag("int")], Annotated[list[SyntheticTask], Tag("list[task]")]],
                     Discriminator(lambda v: "list[task]" if isinstance(v, (list, tuple)) else "int")]
    teacher_macs: Cost | None = None  # per task, MACs; needed with a count
    package_bytes: Cost | None = None  # per task, bytes (>= 1); needed with a count
    student_macs: Cost = 0.0  # per package merged by a receiver, MACs
    # per merge batch, MACs: a batch of packages landing together pays its largest once (a
    # Mahalanobis mapper's inversion; sim.engine.merging; the SimPy engine only)
    student_batch_macs: Cost = 0.0

    @field_validator("teacher_macs", "package_bytes", "student_macs", "student_batch_macs")
    @classmethod
    def _valid_cost(cls, value: Any, info: Any) -> Any:
        return value if value is None else validate_cost(info.field_name, value)

    @model_validator(mode="after")
    def _one_source_of_costs(self) -> "SyntheticWorkload":
        if isinstance(self.tasks, list):
            if not self.tasks:
                raise ValueError("tasks = []: give a task count or a non-empty list of {owner, macs, bytes}")
            given = sorted({"teacher_macs", "package_bytes", "student_macs", "student_batch_macs"} & self.model_fields_set)
            if given:
                raise ValueError(f"{', '.join(given)} given with an explicit task list, whose tasks carry their own "
                                 "macs, bytes and student_macs; drop them, or give tasks as a count")
            return self
        missing = [k for k in ("teacher_macs", "package_bytes") if getattr(self, k) is None]
        if missing:
            raise ValueError(f"tasks = {self.tasks} (a count) needs {' and '.join(missing)}: a number or a "
                             "distribution per task")
        return self

    @property
    def num_tasks(self) -> int:
        """How many tasks the workload has (T)."""
        return len(self.tasks) if isinstance(self.tasks, list) else self.tasks


# The union of every workload kind, told apart by `kind` (one today: room for replays of others).
WorkloadConfig = Annotated[Union[SyntheticWorkload], Field(discriminator="kind")]
