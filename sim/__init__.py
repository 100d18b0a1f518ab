"""skill-sim's simulator: one run of gossip over a modelled network (`simulate`), on the SimPy
engine (sim.engine, the reference semantics) or a compiled loop that gives its answer
(sim.compiled); the experiment layer (sim.experiment) turns scenarios into runs, files and reports.

    from sim import simulate, synthetic_workload, NetworkConfig, FloodConfig, FailuresConfig
"""

from sim.config import (
    BroadcastConfig, FailuresConfig, FloodConfig, GossipConfig, NetworkConfig, PushConfig, PushPullConfig,
)
from sim.errors import ScenarioError, SimError
from sim.metrics import Metrics
from sim.protocols import protocol, protocols, register_protocol
from sim.simulate import SimResult, simulate
from sim.workload import TaskWork, Workload, synthetic_workload

__all__ = [
    "BroadcastConfig", "FailuresConfig", "FloodConfig", "GossipConfig", "Metrics", "NetworkConfig", "PushConfig",
    "PushPullConfig", "ScenarioError", "SimError", "SimResult", "TaskWork", "Workload", "protocol", "protocols",
    "register_protocol", "simulate", "synthetic_workload",
]
