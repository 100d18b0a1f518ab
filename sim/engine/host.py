"""The contract between the engine and a gossip protocol, in both directions.

`Host` spells out all a protocol may read or do of the engine (sim.engine.core.Engine provides it);
`Gossip` is what the engine calls on a protocol; `Listener` is what the network tells the engine.
Protocols import nothing else of the engine, so the engine can build them from the registry
(sim.protocols) without an import cycle.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import simpy

from sim.engine.flows import Flow


class Host(Protocol):
    """What a gossip protocol may touch."""

    env: simpy.Environment
    n_agents: int
    seed: int
    out_dirs: list[list[int]]  # each agent's outgoing link directions, in direction order
    dst_of: list[int]  # the receiving agent of each direction
    held: np.ndarray  # (agents x tasks) bool banks, as far as caught up

    def send(self, d: int, items: list[int] | tuple[int, ...]) -> None:
        """Queue package ids (or digest tokens, negative) on direction d."""

    def direction(self, src: int, dst: int) -> int:
        """The direction from `src` to its neighbour `dst`."""

    def queued(self, d: int) -> list[int]:
        """Items waiting on direction d (not sent yet)."""

    def sending(self, d: int) -> list[int]:
        """Items of the per_package transfers open on direction d: handed over, not through yet
        (empty under per_link, where `queued` holds what waits behind the stream)."""

    def can_open(self, d: int) -> bool:
        """Direction d is up, not sending and has nothing queued."""

    def is_alive(self, agent: int) -> bool:
        """The agent is up."""

    def catch_up(self, agent: int) -> None:
        """Take in everything that has reached `agent` by now."""

    def settled(self) -> bool:
        """The stop condition: learning is over, no recovery is due and nothing more can spread."""

    def idle_for(self, seconds: float) -> bool:
        """Learning is over, no recovery is due, nobody got news for `seconds` and no package is
        on its way (the opt-in give-up rule of push_pull's idle_rounds)."""

    def set_digest_size(self, token: int, nbytes: float) -> None:
        """Digest `token` weighs `nbytes` on the links."""

    def forget_digest(self, token: int) -> None:
        """Digest `token` has been taken in."""

    def child_rng(self, *key: str | int) -> np.random.Generator:
        """A generator derived from the run's seed and a stable key."""


class Listener(Protocol):
    """What the network tells the engine about flows. Every method does nothing unless overridden,
    so a listener that needs a few of the events subclasses this and defines those."""

    def flow_started(self, flow: Flow) -> None: ...
    def flow_changed(self, flow: Flow) -> None: ...
    def flow_finished(self, flow: Flow, cut: bool) -> None: ...
    def item_lost(self, flow: Flow, index: int) -> None: ...
    def before_send(self, agent: int) -> None: ...
    def idle(self, agent: int) -> None: ...
    def direction_down(self, d: int) -> None: ...


class Gossip:
    """A protocol: what an agent sends when it learns, receives, or its timer fires. The defaults
    do nothing; `forwards` (relays at once, so arrivals need wake-ups), `digests` (sends digest
    tokens) and `timers` (sends on timers, so an idle network does not mean nothing can spread)
    tell the engine what to expect."""

    forwards = False
    digests = False
    timers = False

    def __init__(self, host: Host, config: object) -> None:
        self.host = host
        self.config = config

    def start(self) -> None:
        """Start the protocol's timers, if any."""

    def published(self, agent: int, task: int) -> None:
        """`agent` has learned `task` (and holds it)."""

    def received(self, agent: int, ids: list[int], srcs: list[int]) -> None:
        """`agent` banked packages new to it, in arrival order, `srcs[i]` having sent `ids[i]`."""

    def token(self, agent: int, token: int, src: int) -> None:
        """A digest from `src` reached `agent`."""

    def recovered(self, agent: int) -> None:
        """`agent` is back after a crash."""
