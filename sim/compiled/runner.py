"""The compiled path: whether a loop gives the SimPy engine's answer for a run, and a run on it.

A protocol's loop is named in its registration (sim.protocols); every loop module has
`run(LoopInput) -> LoopOutput` (sim.compiled.contract). Importing this module loads no numba:
a loop is imported when a run takes it.
"""

from __future__ import annotations

import importlib
import importlib.util

import networkx as nx
import numpy as np

from sim.compiled import cache, keys
from sim.compiled.contract import LoopInput, LoopOutput
from sim.config import FailuresConfig, GossipConfig, NetworkConfig
from sim.errors import SimError
from sim.links import link_table
from sim.metrics import RunState
from sim.protocols import protocol
from sim.recorder import Event, Recorder
from sim.workload import Workload

# Below this many agent-task pairs "auto" keeps the SimPy engine: loading the compiled loop costs
# ~0.2 s, more than SimPy needs for the 51-agent scenarios (bench/network.py measures both).
COMPILED_FROM_PAIRS = 20_000
HAVE_NUMBA = importlib.util.find_spec("numba") is not None  # a dependency; without it, SimPy only


def supports(graph: nx.Graph, network: NetworkConfig, gossip: GossipConfig, failures: FailuresConfig) -> str | None:
    """None when a compiled loop gives the SimPy engine's answer; otherwise the setting that needs
    the SimPy engine.

    A loop applies when every link direction is a resource of its own (no NIC limit, not even one
    agent's, no serial receive, per_link streams: each direction is then a FIFO pipe, in "maxmin"
    and "fifo" alike), nothing is lost
    and nothing fails, and the protocol registers a loop (push draws per hop from a sequential
    generator, which only the SimPy engine replays; push_pull's loop stops when every agent holds
    everything, so it takes connected graphs only).
    """
    if not HAVE_NUMBA:
        return "numba is not installed"
    if protocol(gossip.protocol).loop is None:
        return f"gossip.protocol={gossip.protocol!r}"
    if network.uplink is not None or network.downlink is not None or network.serial_receive:
        return "NIC limits (network.uplink, downlink or serial_receive)"
    capped = [v for v, attrs in graph.nodes(data=True) if attrs.get("uplink") is not None or attrs.get("downlink") is not None]
    if capped:
        return f"per-agent NIC limits (uplink or downlink of agent {capped[0]})"
    if network.streams != "per_link":
        return f"network.streams={network.streams!r} (the loops run per_link streams)"
    if (failures.agents.scheduled or failures.agents.random or failures.links.scheduled
            or failures.links.random or failures.partitions):
        return "failures"
    if any(attrs.get("loss", 0.0) > 0 for _, _, attrs in graph.edges(data=True)):
        return "lossy links"
    if gossip.protocol == "push_pull" and graph.number_of_nodes() > 1 and not nx.is_connected(graph):
        return "a disconnected graph (push_pull's stop test, per part of the graph)"
    return None


def batched_merges(workload: Workload) -> str | None:
    """Why the loops do not model a workload whose merges have per-batch work (they merge one
    package at a time; the SimPy engine batches them, sim.engine.merging), or None."""
    if workload.batched:
        return "merge batches (a Mahalanobis mapper's per-batch inversion: workload batch_macs / hold_macs)"
    return None


def too_wide(graph: nx.Graph, workload: Workload) -> str | None:
    """Why the loops cannot number a run's arrivals (sim.compiled.keys), or None."""
    if keys.task_bits(graph.number_of_nodes(), workload.num_tasks, 2 * graph.number_of_edges()) is None:
        return f"a run too large for the compiled loops' 63-bit event keys ({graph.number_of_nodes()} agents, {workload.num_tasks} tasks)"
    return None


def pick(graph: nx.Graph, workload: Workload, network: NetworkConfig, gossip: GossipConfig,
         failures: FailuresConfig, engine: str = "auto") -> tuple[str, str | None]:
    """The engine a run takes ("simpy" or "compiled") and, for SimPy, why."""
    if engine == "simpy":
        return "simpy", "engine='simpy'"
    reason = supports(graph, network, gossip, failures) or batched_merges(workload) or too_wide(graph, workload)
    if engine == "auto" and reason is None and graph.number_of_nodes() * workload.num_tasks < COMPILED_FROM_PAIRS:
        reason = f"a small run (under {COMPILED_FROM_PAIRS} agent-task pairs)"
    return ("simpy", reason) if reason else ("compiled", None)


def run(inp: LoopInput) -> LoopOutput:
    """Run the loop registered for the input's protocol."""
    spec = protocol(inp.gossip.protocol)
    if spec.loop is None:
        raise SimError(f"gossip.protocol={spec.name!r} has no compiled loop; run it on the SimPy engine")
    module = importlib.import_module(spec.loop)
    cache.refresh()
    return module.run(inp)


def loop_input(graph: nx.Graph, workload: Workload, rates: np.ndarray, network: NetworkConfig, alpha: float,
               timing: str, gossip: GossipConfig, seed: int, keep_items: bool, capacity: int | None = None) -> LoopInput:
    """A run's graph, links, costs and publishes as the loops' arrays."""
    n = graph.number_of_nodes()
    links = link_table(graph, network, rates, alpha)
    src = links["src"]
    order = np.argsort(src, kind="stable")
    pub_t, pub_agent, pub_task = _publishes(workload, rates, timing)
    return LoopInput(
        n_agents=n, n_tasks=workload.num_tasks,
        out_ptr=np.searchsorted(src[order], np.arange(n + 1)).astype(np.int64), out_dir=order.astype(np.int64),
        src=src, dst=links["dst"], bandwidth=links["bandwidth"], latency=links["latency"],
        sizes=workload.column("nbytes").astype(np.float64), student=workload.column("student_macs"), rates=rates,
        pub_t=pub_t, pub_agent=pub_agent, pub_task=pub_task, gossip=gossip, seed=seed, keep_items=keep_items,
        capacity=capacity,
    )


def run_compiled(graph: nx.Graph, workload: Workload, rates: np.ndarray, network: NetworkConfig, alpha: float,
                 timing: str, gossip: GossipConfig, seed: int, recorder: Recorder) -> RunState:
    """Run the compiled loop; log its flows into `recorder` and replay learned/banked events to
    the observer afterwards, in time order. Returns the run's state for compute_metrics."""
    inp = loop_input(graph, workload, rates, network, alpha, timing, gossip, seed, recorder.keep_packages)
    out = run(inp)
    src, dst = inp.src, inp.dst
    dir_bytes = out.dir_bytes
    packages = offsets = None
    if recorder.keep_packages:  # items stay in send order within a flow
        packages = out.item_package[np.argsort(out.item_flow, kind="stable")]
        offsets = np.concatenate([[0], np.cumsum(out.flow_items)])
    recorder.add_flows(out.flow_start, out.flow_end, out.flow_dir, src, dst, out.flow_bytes, packages, offsets)
    if recorder.wants_events:
        _replay(recorder, inp.pub_t, inp.pub_agent, inp.pub_task, out.known_at, out.held)
    total = float(dir_bytes.sum())
    return RunState(
        known_at=out.known_at, held=out.held, alive=np.ones(inp.n_agents, dtype=bool), removed=[],
        workload=workload, rates=rates, timing=timing, src=src, dst=dst, dir_sent=dir_bytes,
        dir_delivered=dir_bytes, bytes_sent=total, bytes_delivered=total, bytes_lost=0.0,
        teacher_macs=float(sum(t.macs for t in workload.tasks)), student_macs=float(out.student_macs),
        transfers=len(out.flow_start), events=int(out.events),
    )


def _publishes(workload: Workload, rates: np.ndarray, timing: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When each task is learned: every owner learns its tasks back to back from time 0."""
    times, agents, tasks = [], [], []
    for owner, group in sorted(workload.by_owner().items()):
        now = 0.0
        for task in group:
            now += task.seconds(rates[owner], timing)
            times.append(now), agents.append(owner), tasks.append(task.task_id)
    order = np.lexsort((np.array(agents), np.array(times)))
    return (np.array(times, dtype=np.float64)[order], np.array(agents, dtype=np.int64)[order],
            np.array(tasks, dtype=np.int64)[order])


def _replay(recorder: Recorder, pub_t, pub_agent, pub_task, known_at: np.ndarray, held: np.ndarray) -> None:
    """Tell the observer what happened, as the SimPy engine would have told it live."""
    events = [(float(t), 0, int(a), int(k)) for t, a, k in zip(pub_t, pub_agent, pub_task)]
    owner = {int(k): int(a) for a, k in zip(pub_agent, pub_task)}
    agents, tasks = np.nonzero(held)
    events += [(float(known_at[a, k]), 1, int(a), int(k)) for a, k in zip(agents, tasks) if owner[int(k)] != a]
    for t, kind, agent, task in sorted(events):
        recorder.emit(Event(t, "banked" if kind else "learned", agent, (task,)))
