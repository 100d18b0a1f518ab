"""skill-sim's simulator: one run of gossip over a modelled network (`simulate`), on the SimPy
engine (sim.engine, the reference semantics) or a compiled loop that gives its answer
(sim.compiled); the experiment layer (sim.experiment) turns scenarios into runs, files and reports.

    from sim import simulate, synthetic_workload
    result = simulate(graph, synthetic_workload(n, 2, macs=1e10, nbytes=8e5), rates=[1e9] * n)

The names below load on first use (PEP 562), so importing one module of the package (the CLI's
`validate`, the compiled loops' `sim.ranks`) does not import SimPy or the engines. Every
registered protocol: `sim.config.protocols()` (`sim.protocols` names the registry's module).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BroadcastConfig": "sim.config", "FailuresConfig": "sim.config", "FloodConfig": "sim.config",
    "GossipConfig": "sim.config", "NetworkConfig": "sim.config", "PushConfig": "sim.config",
    "PushPullConfig": "sim.config", "ScenarioError": "sim.errors", "SimError": "sim.errors",
    "Metrics": "sim.metrics", "protocol": "sim.config",
    "SimResult": "sim.simulate", "simulate": "sim.simulate", "TaskWork": "sim.workload",
    "Workload": "sim.workload", "synthetic_workload": "sim.workload",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
