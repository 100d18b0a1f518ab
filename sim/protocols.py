"""The gossip protocol registry: one `register_protocol` per protocol, on its config class.

A registration names the config class (its `protocol` literal is the name), the SimPy
implementation (the reference semantics) and, where one gives the same answer bit for bit, the
compiled loop that runs it faster. The scenario schema's `gossip` union, the compiled path's
`supports`, `skill-sim list protocols` and the README reference all derive from this table, so
adding a protocol is one class, one decorator and one implementation (docs/architecture.md).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from sim.errors import SimError

C = TypeVar("C", bound=type)


@dataclass(frozen=True)
class ProtocolSpec:
    """What the simulator knows of one protocol."""

    name: str
    config: type  # the pydantic settings class, discriminated on `protocol`
    engine: str  # "module:Class" of the SimPy implementation
    loop: str | None  # module of the compiled loop (sim.compiled), None where only SimPy runs it
    summary: str  # first line of the config's docstring

    def implementation(self) -> Callable[..., Any]:
        """The SimPy protocol class (imported on first use)."""
        module, _, name = self.engine.partition(":")
        return getattr(importlib.import_module(module), name)


_PROTOCOLS: dict[str, ProtocolSpec] = {}
_sealed = False  # set once the scenario schema's union has been built from the registry


def register_protocol(*, engine: str, loop: str | None = None) -> Callable[[C], C]:
    """Class decorator: register a gossip config class (its `protocol` field's default is the
    name) with the SimPy class `engine` ("module:Class") and, optionally, a compiled `loop`."""

    def decorate(cls: C) -> C:
        name = cls.model_fields["protocol"].default
        if _sealed:
            raise SimError(f"protocol {name!r} is registered after the gossip schema was built; register "
                           "protocols in sim/config.py, before GossipConfig (docs/architecture.md)")
        if name in _PROTOCOLS:
            raise ValueError(f"protocol {name!r} is registered twice")
        summary = (cls.__doc__ or "").strip().split("\n")[0]
        _PROTOCOLS[name] = ProtocolSpec(name, cls, engine, loop, summary)
        return cls

    return decorate


def protocol(name: str) -> ProtocolSpec:
    """The registration of protocol `name`."""
    if name not in _PROTOCOLS:
        raise SimError(f"unknown gossip protocol {name!r}; choose one of {', '.join(_PROTOCOLS)}")
    return _PROTOCOLS[name]


def protocols() -> list[ProtocolSpec]:
    """Every registered protocol, in registration order."""
    return list(_PROTOCOLS.values())


def seal() -> tuple[type, ...]:
    """The registered config classes, for the schema's union; later registrations are refused
    (the union is built once, when sim.config is imported)."""
    global _sealed
    _sealed = True
    return tuple(spec.config for spec in _PROTOCOLS.values())
