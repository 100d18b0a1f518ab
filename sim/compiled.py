"""The compiled path: when sim.kernel's loop gives the flow model's answer, and its arrays as a SimResult."""

from __future__ import annotations

import importlib.util

import networkx as nx
import numpy as np

from sim import draws
from sim.config import FailuresConfig, GossipConfig, NetworkConfig
from sim.gossip import idle_rounds
from sim.metrics import RunState
from sim.network import link_table
from sim.recorder import Event, Recorder
from sim.workload import Workload

# Below this many agent-task pairs "auto" keeps the SimPy engine: loading the compiled loop costs
# ~0.2 s, more than SimPy needs for the 51-agent scenarios (bench/network.py measures both).
COMPILED_FROM_PAIRS = 20_000
HAVE_NUMBA = importlib.util.find_spec("numba") is not None  # a dependency; without it, SimPy only


def why_not(graph: nx.Graph, network: NetworkConfig, gossip: GossipConfig, failures: FailuresConfig) -> str | None:
    """None when the compiled loop applies; otherwise the setting that needs the SimPy engine.

    It applies when every link direction is a resource of its own (no NIC limit, no serial
    receive: each direction is then a FIFO pipe, in "maxmin" and "fifo" alike), nothing is lost
    and nothing fails, and the protocol is flood, broadcast or push_pull (push draws per hop from
    a sequential generator, which only the SimPy engine replays; push_pull's loop stops when every
    agent holds everything, so it takes connected graphs only).
    """
    if not HAVE_NUMBA:
        return "numba is not installed"
    if gossip.protocol not in ("flood", "broadcast", "push_pull"):
        return f"gossip.protocol={gossip.protocol!r}"
    if network.uplink is not None or network.downlink is not None or network.serial_receive:
        return "NIC limits (network.uplink, downlink or serial_receive)"
    if (failures.agents.scheduled or failures.agents.random or failures.links.scheduled
            or failures.links.random or failures.partitions):
        return "failures"
    if any(attrs.get("loss", 0.0) > 0 for _, _, attrs in graph.edges(data=True)):
        return "lossy links"
    if gossip.protocol == "push_pull" and graph.number_of_nodes() > 1 and not nx.is_connected(graph):
        return "a disconnected graph (push_pull's stop test, per part of the graph)"
    return None


def pick(graph: nx.Graph, workload: Workload, network: NetworkConfig, gossip: GossipConfig,
         failures: FailuresConfig, engine: str = "auto") -> tuple[str, str | None]:
    """The engine a run takes ("simpy" or "compiled") and, for SimPy, why."""
    if engine == "simpy":
        return "simpy", "engine='simpy'"
    reason = why_not(graph, network, gossip, failures)
    if engine == "auto" and reason is None and graph.number_of_nodes() * workload.num_tasks < COMPILED_FROM_PAIRS:
        reason = f"a small run (under {COMPILED_FROM_PAIRS} agent-task pairs)"
    return ("simpy", reason) if reason else ("compiled", None)


def run_compiled(graph: nx.Graph, workload: Workload, rates: np.ndarray, network: NetworkConfig, alpha: float,
                 timing: str, gossip: GossipConfig, seed: int, recorder: Recorder) -> RunState:
    """Run the compiled loop (sim/kernel.py for flood and broadcast, sim/kernel_pushpull.py for
    push_pull); log its flows into `recorder` and replay learned/banked events to the observer
    afterwards, in time order. Returns the run's state for compute_metrics."""

    n, n_tasks = graph.number_of_nodes(), workload.num_tasks
    links = link_table(graph, network, rates, alpha)
    src, dst = links["src"], links["dst"]
    order = np.argsort(src, kind="stable")
    out_ptr = np.searchsorted(src[order], np.arange(n + 1)).astype(np.int64)
    pub_t, pub_agent, pub_task = _publishes(workload, rates, timing)
    student = workload.column("student_macs")
    common = (n, n_tasks, out_ptr, order.astype(np.int64), src, dst, links["bandwidth"], links["latency"],
              workload.column("nbytes").astype(np.float64), pub_t, pub_agent, pub_task, student, rates)
    if gossip.protocol == "push_pull":
        from sim import kernel_pushpull  # imports numba: only when a run takes this path

        keys = np.array([draws.stream_key(seed, "push_pull", a) for a in range(n)], dtype=np.uint64)
        max_rounds = -1 if gossip.max_rounds is None else gossip.max_rounds
        out = kernel_pushpull.run_loop(*common, keys, gossip.period_s, gossip.digest_bytes_per_id,
                                       idle_rounds(gossip) * gossip.period_s, max_rounds, recorder.keep_packages)
    else:
        from sim import kernel

        out = kernel.run_loop(*common, gossip.protocol == "flood", recorder.keep_packages)
    held, known_at, student_macs, events, f_start, f_end, f_dir, f_bytes, f_items, i_fid, i_pkg = out
    dir_bytes = np.bincount(f_dir, weights=f_bytes, minlength=len(src))  # package sizes are whole bytes: exact
    packages = offsets = None
    if recorder.keep_packages:  # items stay in send order within a flow
        packages = i_pkg[np.argsort(i_fid, kind="stable")]
        offsets = np.concatenate([[0], np.cumsum(f_items)])
    recorder.add_flows(f_start, f_end, src[f_dir], dst[f_dir], f_bytes, packages, offsets)
    if recorder.wants_events:
        _replay(recorder, pub_t, pub_agent, pub_task, known_at, held)
    total = float(dir_bytes.sum())
    return RunState(
        known_at=known_at, held=held, alive=np.ones(n, dtype=bool), removed=[], workload=workload, rates=rates,
        timing=timing, src=src, dst=dst, dir_sent=dir_bytes, dir_delivered=dir_bytes, bytes_sent=total,
        bytes_delivered=total, bytes_lost=0.0, teacher_macs=float(sum(t.macs for t in workload.tasks)),
        student_macs=float(student_macs), transfers=len(f_start), events=int(events),
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

