"""Derived metrics of one run: makespan, speedup, costs, bytes, coverage and resilience."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
import numpy as np

from sim.workload import Workload

EXACT_CURVE_POINTS = 20_000  # above this many bank changes the coverage curve is sampled on a grid
CURVE_GRID = 1_000
# Why a task is lost (no alive agent holds it at the end), first match wins:
#   wiped:         an agent alive at the end held it and lost it to a bank wipe, and did not get
#                  it back (its owner did not relearn it: failures.relearn_after_wipe is off, or the
#                  owner is dead and a non-owner was wiped)
#   holders_died:  it was held, and every agent that held it is dead at the end
#   never_learned: nobody ever held it (its owner died before finishing it)
LOST_CAUSES = ("wiped", "holders_died", "never_learned")


@dataclass
class Metrics:
    """Numbers that summarise a run; `to_dict()` is JSON-friendly (inf becomes None)."""

    n_agents: int
    n_tasks: int
    makespan_s: float  # every alive agent knows every task held by some alive agent (inf: never)
    single_agent_s: float  # the fastest agent (reference_rate) learning all tasks alone
    reference_rate: float  # MACs/s of that agent: max(rates), so speedup is never flattered
    speedup: float | None  # single_agent_s / makespan_s (None: makespan never reached)
    efficiency: float | None  # speedup / n_agents (None: makespan never reached)
    teacher_macs: float  # MACs spent learning
    student_macs: float  # MACs spent merging received packages
    bytes_sent: float  # every byte that left a sender, retransmissions and digests included
    bytes_delivered: float  # bytes that arrived intact (duplicates included)
    bytes_lost: float  # bytes_sent - bytes_delivered: lost, cut or in flight at a crash
    alpha: float
    alpha_cost: float  # teacher_macs + student_macs + alpha * bytes_sent
    transfers: int  # flows (each may carry several packages)
    events: int  # events processed (SimPy's, or a compiled loop's: arrivals, or timers, flow ends and digests)
    complete: bool  # did every alive agent end up knowing every surviving task
    coverage_final: float  # fraction of (alive agent, task) pairs known at the end
    tasks_lost: list[int]  # tasks no alive agent holds at the end (see `lost_by_cause` for why)
    alive: list[bool]
    agent_full_s: list[float]  # per agent: time it knew every surviving task (inf: never / dead)
    bytes_out: list[float]  # per agent
    bytes_in: list[float]  # per agent, bytes delivered to it
    bytes_per_link: dict[str, float]  # "u-v" (u < v): bytes sent both ways
    # (time, fraction) steps of coverage_final's pairs: (agent alive at the end, task), all tasks
    coverage: list[tuple[float, float]] = field(default_factory=list)
    # the lost tasks split by cause (LOST_CAUSES), each list in task order
    tasks_lost_by_cause: dict[str, list[int]] = field(default_factory=dict)
    # (alive agent, surviving task) pairs not held at the end: why makespan is never reached
    pairs_missing: int = 0
    # alive agents whose bank was wiped at some point (keep_bank: false), in agent order
    wiped_survivors: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict: floats stay floats, inf and nan become None."""
        return _clean(asdict(self))


def _clean(value):
    """Recursively replace non-finite floats by None and tuples by lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def survivor_coverage(known_at: np.ndarray, removed: list, alive: np.ndarray) -> list[tuple[float, float]]:
    """Coverage over time with the summary's definition, so the curve ends at coverage_final:
    (agent alive at the end, task) pairs known, over survivors x all tasks."""
    alive = np.asarray(alive, dtype=bool)
    kept = [r for r in removed if alive[r[1]]]
    return coverage_curve(known_at if alive.all() else known_at[alive], kept, int(alive.sum()) * known_at.shape[1])


def _pieces(values: np.ndarray, size: int = 1 << 20):
    """A table's values in memory order, a million at a time: its finite ones are read piece by
    piece, where a mask and a gather of the whole (10^8 cells at N = 5000) took fresh pages."""
    flat = values.ravel(order="K")  # a view of a table contiguous in either order
    return (flat[k:k + size] for k in range(0, len(flat), size))


def coverage_curve(known_at: np.ndarray, removed: list, total: int) -> list[tuple[float, float]]:
    """Fraction of `total` agent-task pairs known over time, as steps (sampled for very large runs)."""
    n_times, top = 0, -np.inf  # finite times, and the latest
    for v in _pieces(known_at):
        finite = np.isfinite(v)
        n_times += int(np.count_nonzero(finite))
        top = max(top, float(np.max(v, where=finite, initial=-np.inf)))
    downs = np.array([r[0] for r in removed], dtype=np.float64)
    rebanked = np.array([r[3] for r in removed], dtype=np.float64)
    if total == 0 or n_times + len(rebanked) == 0:
        return [(0.0, 0.0)]
    if n_times + len(rebanked) + len(downs) <= EXACT_CURVE_POINTS:
        ups = np.concatenate([v[np.isfinite(v)] for v in _pieces(known_at)] + [rebanked])
        steps = np.concatenate([ups, downs])
        delta = np.concatenate([np.ones(len(ups)), -np.ones(len(downs))])
        order = np.argsort(steps, kind="stable")
        steps, level = steps[order], np.cumsum(delta[order]) / total
        last = np.r_[steps[1:] != steps[:-1], True]  # keep the level after the last change at a time
        return [(0.0, 0.0)] + list(zip(steps[last].tolist(), level[last].tolist()))
    grid = np.linspace(0.0, float(max(top, rebanked.max(initial=-np.inf), downs.max(initial=0.0))), CURVE_GRID)
    up = _at_most(rebanked, grid) + sum(_at_most(v[np.isfinite(v)], grid) for v in _pieces(known_at))
    down = _at_most(downs, grid) if len(downs) else 0
    return list(zip(grid.tolist(), ((up - down) / total).tolist()))


@dataclass
class RunState:
    """What a finished run hands to compute_metrics, whichever engine produced it."""

    known_at: np.ndarray  # (agents x tasks) merge time of each held package; inf if not held
    held: np.ndarray  # (agents x tasks) bool
    alive: np.ndarray  # (agents,) bool
    removed: list  # bank wipes: (time, agent, task, banked at)
    workload: Workload
    rates: np.ndarray
    timing: str
    src: np.ndarray  # per link direction
    dst: np.ndarray
    dir_sent: np.ndarray  # bytes that left on each direction
    dir_delivered: np.ndarray  # bytes that arrived intact on each direction
    bytes_sent: float  # every byte that left a sender
    bytes_delivered: float
    bytes_lost: float
    teacher_macs: float
    student_macs: float
    transfers: int
    events: int
    lessons: list = field(default_factory=list)  # co-simulation: (start, agent, task, package key)


def _at_most(values: np.ndarray, grid: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """How many values are <= each point of an evenly spaced ascending grid, without sorting the
    values (10^7 of them: a sort, or a binary search each, takes seconds). Each value counts from
    the first grid point >= it on: found by division, then corrected to the exact point; in
    cache-sized blocks, as numpy's histogram does."""
    last = len(grid) - 1
    if last == 0 or grid[-1] <= grid[0]:
        return np.searchsorted(np.sort(values), grid, side="right")
    step = (grid[-1] - grid[0]) / last
    counts = np.zeros(len(grid) + 1, dtype=np.int64)
    for k in range(0, len(values), block):
        v = values[k:k + block]
        first = np.clip(np.ceil((v - grid[0]) / step), 0, last + 1).astype(np.int64)
        while True:  # the division may be a point off either way
            up = (first <= last) & (grid[np.minimum(first, last)] < v)
            down = (first > 0) & (grid[np.maximum(first - 1, 0)] >= v)
            if not (up.any() or down.any()):
                break
            first += up.astype(np.int64) - down.astype(np.int64)
        counts += np.bincount(first, minlength=len(grid) + 1)
    return np.cumsum(counts[:len(grid)])


def _missing(held: np.ndarray) -> int:
    """How many pairs of a bank table are not held."""
    return int(held.size - np.count_nonzero(held))


def lost_by_cause(run: RunState, surviving: np.ndarray) -> dict[str, list[int]]:
    """The tasks no alive agent holds at the end (not `surviving`), by cause (see LOST_CAUSES)."""
    wiped_alive = {task for _, agent, task, _ in run.removed if run.alive[agent]}
    ever_held = run.held.any(axis=0)
    ever_held[[task for _, _, task, _ in run.removed]] = True
    causes: dict[str, list[int]] = {cause: [] for cause in LOST_CAUSES}
    for task in np.flatnonzero(~surviving).tolist():
        cause = "wiped" if task in wiped_alive else "holders_died" if ever_held[task] else "never_learned"
        causes[cause].append(task)
    return causes


def compute_metrics(run: RunState, alpha: float) -> Metrics:
    """Derive every metric from a run's final state and counters."""
    n, t = run.held.shape
    alive = run.alive
    held = run.held if alive.all() else run.held[alive]  # (alive agents x tasks)
    surviving = held.any(axis=0) if alive.any() else np.zeros(t, dtype=bool)
    full = np.full(n, np.inf)  # per agent: when it knew every surviving task (inf: dead)
    if surviving.any():
        latest = np.max(run.known_at, axis=1, where=surviving[None, :], initial=-np.inf)
        full[alive] = latest[alive]
    else:
        full[alive] = 0.0
    makespan = float(full[alive].max()) if alive.any() else math.inf
    if run.timing == "wall":
        single = float(sum(task.wall_s for task in run.workload.tasks))
    else:
        single = float(sum(task.macs for task in run.workload.tasks)) / float(run.rates.max())
    # never reached: no speedup at all (None, written null), not a speedup of 0 (an infinitely slow run)
    speedup = None if not math.isfinite(makespan) else single / makespan if makespan > 0 else math.inf
    dir_sent = np.asarray(run.dir_sent, dtype=np.float64)
    dir_delivered = np.asarray(run.dir_delivered, dtype=np.float64)
    lo, hi = np.minimum(run.src, run.dst), np.maximum(run.src, run.dst)
    per_link: dict[str, float] = {}
    for a, b, sent in zip(lo.tolist(), hi.tolist(), dir_sent.tolist()):
        key = f"{a}-{b}"
        per_link[key] = per_link.get(key, 0.0) + sent
    student = run.student_macs
    return Metrics(
        n_agents=n, n_tasks=t, makespan_s=makespan, single_agent_s=single,
        reference_rate=float(run.rates.max()), speedup=speedup, efficiency=None if speedup is None else speedup / n,
        teacher_macs=float(run.teacher_macs), student_macs=float(student),
        bytes_sent=float(run.bytes_sent), bytes_delivered=float(run.bytes_delivered),
        bytes_lost=float(run.bytes_lost),
        alpha=alpha, alpha_cost=float(run.teacher_macs + student + alpha * run.bytes_sent),
        transfers=run.transfers, events=run.events,
        complete=bool(math.isfinite(makespan)),
        coverage_final=float(np.count_nonzero(held) / held.size) if alive.any() and t else 0.0,
        tasks_lost=np.flatnonzero(~surviving).tolist(), alive=alive.tolist(),
        agent_full_s=full.tolist(),
        bytes_out=np.bincount(run.src, weights=dir_sent, minlength=n).tolist(),
        bytes_in=np.bincount(run.dst, weights=dir_delivered, minlength=n).tolist(),
        bytes_per_link=per_link,
        coverage=survivor_coverage(run.known_at, run.removed, alive),
        tasks_lost_by_cause=lost_by_cause(run, surviving),
        pairs_missing=_missing(held if surviving.all() else held[:, surviving]) if alive.any() else 0,
        wiped_survivors=sorted({int(agent) for _, agent, _, _ in run.removed if alive[agent]}),
    )
