"""The scenario schema: one YAML file describes a complete, validated experiment.

This is the single source of truth for configuration. It composes the learning settings of
`agents.config` and the network settings of `sim.config`; everything downstream receives typed
objects, never raw dicts.
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, Field, field_validator, model_validator

from agents.config import LearnerConfig, PathField, SuiteConfig
from sim.config import STRICT, FailuresConfig, GossipConfig, NetworkConfig
from sim.workload_config import WorkloadConfig
from sim.experiment.evaluation_config import AgentSample, EvaluationSection
from sim.experiment.naming import check_name
from topologies.errors import TopologyError
from topologies.links import validate_link_value
from topologies.registry import family_params, list_families


class _Strict(BaseModel):
    """Base of the scenario's sections: sim.config.STRICT (strict types, no inf or nan)."""

    model_config = STRICT


class RoundRobin(_Strict):
    """Task t goes to agent t mod N: neighbours on a ring learn consecutive tasks."""

    kind: Literal["round_robin"] = "round_robin"


class Blocks(_Strict):
    """Agent i learns a contiguous block of tasks (agent 0 gets the first T/N, and so on)."""

    kind: Literal["blocks"] = "blocks"


class Balanced(_Strict):
    """Tasks sorted by training-set size (which sets their learning cost) and dealt in snake order
    (largest to agent 0..N-1, next round back N-1..0, ...), so agents get even work and equal counts."""

    kind: Literal["balanced"] = "balanced"


class Explicit(_Strict):
    """`tasks[i]` lists the task ids agent i learns, in order."""

    kind: Literal["explicit"] = "explicit"
    tasks: list[list[int]]


Assignment = Union[RoundRobin, Blocks, Balanced, Explicit]


class AgentOverride(_Strict):
    """Per-agent exception to the population's defaults (heterogeneous agents: a phone, a server).
    Unset fields keep the population's value (agents.rate_macs_per_s, network.uplink/downlink)."""

    agent: int = Field(ge=0)
    rate_macs_per_s: float | None = Field(None, gt=0)
    # This agent's NIC caps in bytes/s (read like network.uplink/downlink, also in alpha mode).
    uplink: float | None = Field(None, gt=0)
    downlink: float | None = Field(None, gt=0)


class AgentsSection(_Strict):
    """How many agents there are, how fast they compute, and who learns which task."""

    count: int = Field(51, ge=1)
    # 5e10 MACs/s: what a 2-core CPU sustains on EfficientNet-Lite0 convolutions, give or take.
    rate_macs_per_s: float = Field(5e10, gt=0)
    overrides: list[AgentOverride] = []
    assignment: Assignment = Field(default_factory=RoundRobin, discriminator="kind")

    def rates(self) -> list[float]:
        """Compute rate of every agent, overrides applied."""
        rates = [self.rate_macs_per_s] * self.count
        for o in self.overrides:
            if o.rate_macs_per_s is not None:
                rates[o.agent] = o.rate_macs_per_s
        return rates

    def nic_caps(self) -> dict[int, dict[str, float]]:
        """The NIC caps overrides set, per agent (they become the graph's node attributes)."""
        caps: dict[int, dict[str, float]] = {}
        for o in self.overrides:
            for name in ("uplink", "downlink"):
                if getattr(o, name) is not None:
                    caps.setdefault(o.agent, {})[name] = getattr(o, name)
        return caps

    @model_validator(mode="after")
    def _overrides_in_range(self) -> "AgentsSection":
        for i, o in enumerate(self.overrides):
            if o.agent >= self.count:
                raise ValueError(f"overrides[{i}].agent = {o.agent} is not an agent (0..{self.count - 1})")
        return self


class LinksSection(_Strict):
    """Link attributes: a number for every edge, or a seeded distribution like
    {dist: uniform, low: 1e6, high: 1e7}. Ignored for bandwidth in alpha mode."""

    bandwidth: float | dict[str, Any] = 1.25e7  # bytes/s: a 100 Mbit/s link
    latency: float | dict[str, Any] = 0.01  # seconds
    loss: float | dict[str, Any] = 0.0  # probability that one transfer attempt is lost

    @field_validator("bandwidth", "latency", "loss")
    @classmethod
    def _valid(cls, value: Any, info: Any) -> Any:
        try:
            validate_link_value(info.field_name, value)
        except TopologyError as exc:
            raise ValueError(str(exc)) from None
        return value


class TopologySection(_Strict):
    """Which graph connects the agents (see `skill-sim list topologies`)."""

    family: str = "ring"
    params: dict[str, Any] = {}
    # For family "file": a GraphML or edge-list file, relative to the scenario file.
    path: PathField | None = None
    links: LinksSection = LinksSection()

    @field_validator("family")
    @classmethod
    def _known_family(cls, family: str) -> str:
        families = list_families()
        if family not in families:
            import difflib

            near = difflib.get_close_matches(family, families, n=1)
            hint = f" Did you mean {near[0]!r}?" if near else ""
            raise ValueError(f"unknown family {family!r}.{hint} Allowed: {', '.join(families)}")
        return family

    @model_validator(mode="after")
    def _family_params(self) -> "TopologySection":
        if self.family == "file":
            if self.path is None:
                raise ValueError("family 'file' needs `path: <graph.graphml | edges.txt>`")
            return self
        allowed = family_params(self.family)
        unknown = sorted(set(self.params) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {unknown} for family {self.family!r}; "
                f"allowed: {sorted(allowed) or 'none'}"
            )
        return self


class OutputSection(_Strict):
    """Where results go and what is written besides results.json."""

    dir: PathField | None = None  # default: runs/<scenario name>
    plots: bool = True
    events_csv: bool = True


class Scenario(_Strict):
    """A complete experiment: agents, tasks, learner, topology, network, gossip, failures, alpha."""

    # Names the run folder (runs/<name>), so it is one short folder name.
    name: str = Field("scenario", min_length=1, max_length=100)
    seed: int = Field(0, ge=0)
    agents: AgentsSection = AgentsSection()
    tasks: SuiteConfig = SuiteConfig()
    learner: LearnerConfig = LearnerConfig()
    # Instead of tasks + learner: a cost-only workload (counted costs given, nothing learned or
    # evaluated); None: the tasks are learned for real.
    workload: WorkloadConfig | None = None
    topology: TopologySection = TopologySection()
    network: NetworkConfig = NetworkConfig()
    gossip: GossipConfig = Field(default_factory=lambda: _default_gossip(), discriminator="protocol")
    failures: FailuresConfig = FailuresConfig()
    # MACs per byte. One value for `run`; a list is the default grid for `sweep`.
    alpha: float | list[float] = 1000.0
    # "macs": compute time = counted MACs / rate (reproducible); "wall": measured seconds.
    timing: Literal["macs", "wall"] = "macs"
    # "auto": a compiled loop where it gives the SimPy engine's answer bit for bit and the run is
    # large (sim.compiled.supports), the SimPy engine elsewhere; "simpy" / "compiled" force one.
    engine: Literal["auto", "simpy", "compiled"] = "auto"
    output: OutputSection = OutputSection()
    # Accuracy over simulated time: the banks evaluated at checkpoints; None: at the end only.
    evaluation: EvaluationSection | None = None

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("alpha")
    @classmethod
    def _positive_alpha(cls, value: float | list[float]) -> float | list[float]:
        values = value if isinstance(value, list) else [value]
        if not values or any(a <= 0 for a in values):
            raise ValueError(f"alpha must be a positive number or a non-empty list of them, got {value!r}")
        twice = sorted({a for a in values if values.count(a) > 1})
        if twice:
            raise ValueError(f"alpha {', '.join(f'{a:g}' for a in twice)} is listed twice; list each value once")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        if isinstance(self.agents.assignment, Explicit):
            if len(self.agents.assignment.tasks) != self.agents.count:
                raise ValueError(
                    f"agents.assignment.tasks has {len(self.agents.assignment.tasks)} lists, "
                    f"one per agent is needed ({self.agents.count})"
                )
        if self.workload is not None:
            self._check_synthetic()
        chosen = self.evaluation.agents if self.evaluation is not None else None
        if isinstance(chosen, AgentSample) and chosen.sample > self.agents.count:
            raise ValueError(f"evaluation.agents.sample = {chosen.sample} is more than the {self.agents.count} "
                             f"agents; sample at most agents.count, or write `agents: all`")
        return self

    def _check_synthetic(self) -> None:
        """A synthetic workload replaces tasks + learner and has no measured wall times; a task list
        names each task's owner, so no assignment rule may be given beside it."""
        both = [k for k in ("tasks", "learner") if k in self.model_fields_set]
        if both:
            raise ValueError(f"workload and {' and '.join(both)} are both given: a synthetic workload replaces tasks "
                             "and learner (nothing is learned); drop one or the other")
        if self.timing == "wall":
            raise ValueError("timing = 'wall' with a synthetic workload: nothing is learned, so no wall time is "
                             "measured; use timing: macs")
        if self.evaluation is not None:
            raise ValueError("evaluation is given with a synthetic workload: nothing is learned, so there is no "
                             "bank to evaluate; drop evaluation, or learn the tasks (tasks + learner)")
        if isinstance(self.workload.tasks, list) and "assignment" in self.agents.model_fields_set:
            raise ValueError("agents.assignment is given with an explicit workload.tasks list, whose tasks name "
                             "their owner; drop agents.assignment, or give workload.tasks as a count")

    def resolved(self) -> dict[str, Any]:
        """Every field with its default filled in, as JSON data that validates back to this scenario
        (scenario.yaml, `validate`, a study's cells): a synthetic workload leaves out tasks and
        learner, which it replaces and which may not be given beside it."""
        return self.model_dump(mode="json", exclude={"tasks", "learner"} if self.synthetic else None)

    @property
    def synthetic(self) -> bool:
        """True when the workload is cost-only: nothing is learned or evaluated."""
        return self.workload is not None

    @property
    def alphas(self) -> list[float]:
        """Alpha values as a list (one for a plain run)."""
        return list(self.alpha) if isinstance(self.alpha, list) else [float(self.alpha)]


def _default_gossip() -> Any:
    from sim.config import FloodConfig

    return FloodConfig()
