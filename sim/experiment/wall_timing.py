"""What `timing: wall` measured: the machines its stored wall times come from, and the refusal to
mix machines (a wall time from one host or device is no measure of another's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from agents.timing import machine_of
from sim.errors import ScenarioError

if TYPE_CHECKING:  # agents.learner loads torch, which a synthetic run never needs
    from agents.learner import LearnResult

INCLUDES = ("per task: the backbone feature extraction of its training images, measured when the features "
            "were extracted (and stored with them in the cache), plus this learning's head, beneficial-bias, "
            "anchor and packaging phases, measured when the task was learned with these settings")


def machines(results: Iterable[LearnResult]) -> dict[tuple[str, str, int], set[int]]:
    """Each machine (host, device, torch threads) that measured some part of a result -> its tasks."""
    out: dict[tuple[str, str, int], set[int]] = {}
    for r in results:
        for record in r.wall_measured.values():
            out.setdefault(machine_of(record), set()).add(r.task_id)
    return out


def check_one_machine(found: dict[tuple[str, str, int], set[int]], cache_root: Any) -> None:
    """Refuse wall times measured on more than one machine (exit 2), naming them and the fixes."""
    if len(found) <= 1:
        return
    listing = "; ".join(f"host {h!r}, device {d!r}, {t} torch threads: tasks {_ids(tasks)}"
                        for (h, d, t), tasks in sorted(found.items()))
    raise ScenarioError(
        f"timing: wall would mix wall times measured on {len(found)} machines ({listing}); "
        f"they are not comparable. Use --set timing=macs (counted MACs, the same anywhere), or "
        f"--cache DIR with a fresh DIR (instead of {cache_root}) to measure every task on this machine"
    )


def summary(learned: dict[int, LearnResult], fresh: set[int], extracted: set[int]) -> dict[str, Any]:
    """The results.json `wall_timing` block: what is included, where and when it was measured, and
    how much of it this run measured (`fresh`: tasks learned now; `extracted`: features computed now)."""
    results = list(learned.values())
    phases: dict[str, float] = {}
    for r in results:
        for phase, seconds in r.wall_by_phase.items():
            phases[phase] = phases.get(phase, 0.0) + float(seconds)
    stamps = sorted(rec["measured_at"] for r in results for rec in r.wall_measured.values())
    return {
        "includes": INCLUDES,
        "seconds_by_phase": phases,
        "machines": [{"host": h, "device": d, "torch_threads": t, "tasks": len(tasks)}
                     for (h, d, t), tasks in sorted(machines(results).items())],
        "measured_from": stamps[0] if stamps else None,
        "measured_to": stamps[-1] if stamps else None,
        "tasks_learned_this_run": len(fresh),
        "tasks_learned_from_cache": len(results) - len(fresh),
        "features_extracted_this_run": len(extracted),
        "features_from_cache": len(results) - len(extracted),
    }


def _ids(tasks: set[int]) -> str:
    """A short list of task ids for a message."""
    ordered = sorted(tasks)
    return ", ".join(map(str, ordered[:8])) + (f" and {len(ordered) - 8} more" if len(ordered) > 8 else "")
