"""Typed settings of the simulated side: network, gossip protocol and failures (pydantic v2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from sim.errors import SimError
from topologies.errors import TopologyError
from topologies.links import validate_link_value
from sim.protocols import protocol, protocols, register_protocol, seal  # noqa: F401  (the registry, filled here)


# The one configuration of every settings model (agents.config repeats it, since agents/ never
# imports sim/): unknown keys are errors, settings never change after validation, and values keep
# their YAML type: `true` is no count, "3" no number, 2.0 no integer (ints still fill floats).
# inf and nan are refused everywhere: each "never" has its own spelling (null, where a field allows it).
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

# An edge as a YAML list `[u, v]`: a list is not a tuple in strict mode, so this field converts it
# (its two agent ids stay strict integers).
Edge = Annotated[tuple[int, int], Strict(False)]


class _Frozen(BaseModel):
    """Base: unknown keys are errors, settings never change after validation, types are strict."""

    model_config = STRICT


class NetworkConfig(_Frozen):
    """How links carry bytes: bandwidth source, sharing, streams (per_link or per_package), NIC caps
    in bytes/s (in alpha mode a cap is priced like a link: the engine uses cap / alpha), loss handling."""

    # "explicit": per-edge `bandwidth` attribute; "alpha": bandwidth = min(rates of the two ends) /
    # alpha, so a byte costs alpha MACs of time as in the paper's cost metric.
    mode: Literal["explicit", "alpha"] = "explicit"
    # "maxmin": concurrent flows share every resource max-min fairly (SimGrid's flow model);
    # "fifo": each resource serves one flow at a time, for comparison.
    sharing: Literal["maxmin", "fifo"] = "maxmin"
    # How packages share a link direction. "per_link": one stream per direction carries what is
    # queued there, in FIFO order (one persistent connection per neighbour pair: right for gossip
    # over long-lived channels); "per_package": every package (and digest) is its own flow, max-min
    # shared with the others on its direction and NICs (one connection per transfer, as SimGrid
    # models a comm: right when transfers are independent requests). Compiled loops run per_link.
    streams: Literal["per_link", "per_package"] = "per_link"
    # Every agent's NIC capacities in bytes/s: a number, a seeded distribution like the link
    # attributes ({dist: uniform, low: .., high: ..}, drawn per agent from the run's seed), or None
    # (the NIC is never the bottleneck, only links are). A GraphML node attribute `uplink` /
    # `downlink` or an agents.overrides entry sets one agent's cap instead. In mode "alpha" a cap
    # is priced like a link: the engine uses cap / alpha bytes/s, so a cap is read as bytes/s at
    # alpha = 1 (MACs/s of transfer) and communication time grows linearly in alpha.
    # With a NIC limit (or per_package) a transfer's bytes flow after its route's latency (SimGrid
    # CM02): latency and NIC sharing compose, and a serial receiver never takes bytes faster than
    # its NIC; without one, a package arrives at start + bytes / bandwidth + latency as before.
    uplink: float | dict[str, Any] | None = None
    downlink: float | dict[str, Any] | None = None
    # The paper's assumption: a student receives packages one at a time over one interface.
    serial_receive: bool = False
    # Reliable: a lost package is retransmitted after the timeout; unreliable: it is dropped.
    reliable: bool = True
    # Loss is noticed this long after the package would have arrived (a TCP-like timeout).
    loss_timeout_s: float = Field(default=1.0, ge=0)
    # A package is tried at most 1 + max_retries times on one link direction.
    max_retries: int = Field(default=10, ge=0)

    @field_validator("uplink", "downlink")
    @classmethod
    def _cap(cls, value: Any, info: Any) -> Any:
        """A cap is a number > 0 or a distribution whose draws are (checked like link bandwidths)."""
        if value is None:
            return value
        try:
            validate_link_value("bandwidth", value)
        except TopologyError as exc:
            message = str(exc).replace("bandwidth (bytes/s)", "a NIC cap (bytes/s)")
            raise ValueError(message.replace("bandwidth", info.field_name)) from None
        return float(value) if not isinstance(value, dict) else value

    @property
    def nic_limited(self) -> bool:
        """True when some resource besides the link directions can bind (a NIC cap or serial receive)."""
        return self.uplink is not None or self.downlink is not None or self.serial_receive


class _Gossip(_Frozen):
    """Base of the protocol settings: what a protocol asks of the graph."""

    def check_graph(self, graph: nx.Graph) -> None:
        """Raise SimError when the protocol cannot run on `graph` (none by default)."""


@register_protocol(engine="sim.engine.protocols:Broadcast", loop="sim.compiled.flood_loop")
class BroadcastConfig(_Gossip):
    """The paper's setting: the teacher sends each package to every other agent directly."""

    protocol: Literal["broadcast"] = "broadcast"

    def check_graph(self, graph: nx.Graph) -> None:
        """Broadcast needs a full graph."""
        n = graph.number_of_nodes()
        if graph.number_of_edges() != n * (n - 1) // 2:
            raise SimError(
                f"gossip.protocol='broadcast' needs a full graph (every agent linked to every other); "
                f"this graph has {graph.number_of_edges()} of {n * (n - 1) // 2} edges: "
                "use a 'full' topology or protocol 'flood'"
            )


@register_protocol(engine="sim.engine.protocols:Flood", loop="sim.compiled.flood_loop")
class FloodConfig(_Gossip):
    """Forward each new package to every neighbour but the one it came from."""

    protocol: Literal["flood"] = "flood"


# push draws per hop from a sequential generator, which only the SimPy engine replays: no loop
@register_protocol(engine="sim.engine.protocols:Push")
class PushConfig(_Gossip):
    """Forward each new package to `fanout` random neighbours, at most `rounds` hops from its owner."""

    protocol: Literal["push"] = "push"
    fanout: int = Field(default=2, ge=1)  # 2: the classic rumour-mongering choice
    rounds: int = Field(default=64, ge=1)  # hop bound; enough for small-world diameters

    def check_graph(self, graph: nx.Graph) -> None:
        """Every agent needs `fanout` neighbours."""
        smallest = min(d for _, d in graph.degree())
        if self.fanout > smallest:
            raise SimError(
                f"gossip.fanout={self.fanout} is larger than the smallest degree {smallest}; "
                f"choose fanout <= {smallest}"
            )


@register_protocol(engine="sim.engine.protocols:PushPull", loop="sim.compiled.pushpull_loop")
class PushPullConfig(_Gossip):
    """Anti-entropy: every period, swap digests with a random neighbour and pull what is missing
    (a round whose link is still sending is skipped). Exchanges stop once none can bring news, after
    `max_rounds` rounds, or, if set, after `idle_rounds` periods without news."""

    protocol: Literal["push_pull"] = "push_pull"
    period_s: float = Field(default=1.0, gt=0)  # one exchange per agent per period
    digest_bytes_per_id: int = Field(default=8, ge=0, le=2**20)  # a digest lists held ids, 8 bytes each
    # None: no bound on the rounds (see idle_rounds for when the exchanges stop).
    max_rounds: int | None = Field(default=None, ge=1)
    # Without it, the exchanges stop once none can bring news (noticed within one period): every
    # alive agent holds every task that some alive agent of its part of the graph holds (one part
    # in a connected graph where nobody is dead); a recovery starts them again.
    # With it, agents also give up after this many periods in which no agent got anything new,
    # learning is over, no recovery is due and no package is on its way.
    idle_rounds: int | None = Field(default=None, ge=1)

    @property
    def idle_s(self) -> float:
        """Seconds without news after which the agents give up (inf without idle_rounds)."""
        return float("inf") if self.idle_rounds is None else self.idle_rounds * self.period_s


# The union of every registered protocol's settings (sim.protocols), told apart by `protocol`.
GossipConfig = Annotated[Union[seal()], Field(discriminator="protocol")]


class AgentCrash(_Frozen):
    """A scheduled crash of one agent, with optional recovery."""

    agent: int = Field(ge=0)
    at_s: float = Field(ge=0)
    recover_at_s: float | None = None  # None: the agent stays dead
    keep_bank: bool = True  # on recovery, keep received packages (False: the bank is wiped)

    @model_validator(mode="after")
    def _recover_after_crash(self) -> "AgentCrash":
        if self.recover_at_s is not None and self.recover_at_s <= self.at_s:
            raise ValueError(f"recover_at_s={self.recover_at_s} must be after at_s={self.at_s}")
        return self


class RandomAgentFailures(_Frozen):
    """Agents fail after exponential up-times and recover after exponential repair times."""

    mtbf_s: float = Field(gt=0)  # mean up-time of an agent
    mttr_s: float | None = Field(default=None, gt=0)  # None: failed agents never come back
    keep_bank: bool = True
    fraction: float = Field(default=1.0, ge=0, le=1)  # share of agents (chosen by seed) that may fail
    agents: list[int] | None = None  # explicit list of agents that may fail (overrides fraction)


class LinkOutage(_Frozen):
    """A scheduled outage of one link (both directions)."""

    edge: Edge
    start_s: float = Field(ge=0)
    end_s: float

    @model_validator(mode="after")
    def _ordered(self) -> "LinkOutage":
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s={self.end_s} must be after start_s={self.start_s}")
        return self


class RandomLinkFailures(_Frozen):
    """Every link alternates exponential up (mtbf_s) and down (mttr_s) periods."""

    mtbf_s: float = Field(gt=0)
    mttr_s: float = Field(gt=0)


class Partition(_Frozen):
    """A set of edges cut together during a time window."""

    edges: list[Edge]
    start_s: float = Field(ge=0)
    end_s: float

    @model_validator(mode="after")
    def _ordered(self) -> "Partition":
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s={self.end_s} must be after start_s={self.start_s}")
        return self


class AgentFailures(_Frozen):
    """Scheduled and random agent crashes."""

    scheduled: list[AgentCrash] = Field(default_factory=list)
    random: RandomAgentFailures | None = None


class LinkFailures(_Frozen):
    """Scheduled and random link outages."""

    scheduled: list[LinkOutage] = Field(default_factory=list)
    random: RandomLinkFailures | None = None


class FailuresConfig(_Frozen):
    """Everything that can go wrong; the default is a perfect world."""

    agents: AgentFailures = Field(default_factory=AgentFailures)
    links: LinkFailures = Field(default_factory=LinkFailures)
    partitions: list[Partition] = Field(default_factory=list)
    # An agent back with a wiped bank (keep_bank: false) relearns the tasks of its own it had
    # finished, paying their compute again, and shares them again (it still has their data);
    # false: they stay lost unless some other agent still holds them.
    relearn_after_wipe: bool = False
    # Random failure processes stop once the run settles (learning over, no recovery due, and
    # nothing more can spread: see Engine.settled), or at this time.
    horizon_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _relearning_churn_has_an_end(self) -> "FailuresConfig":
        """Random wipes with relearning lose nothing for good, so anti-entropy may keep repairing
        (and the random crashes keep coming) for as long as it takes: such a run needs a horizon."""
        spec = self.agents.random
        if (self.relearn_after_wipe and spec is not None and not spec.keep_bank and spec.mttr_s is not None
                and self.horizon_s is None):
            raise ValueError(
                "relearn_after_wipe with random wipes (agents.random with keep_bank: false and mttr_s) needs "
                "horizon_s: nothing is lost for good, so the random crashes go on while anti-entropy repairs, "
                "possibly for very long; set e.g. horizon_s: 3600"
            )
        return self
