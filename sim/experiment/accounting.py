"""The paper's cost accounting (SKILL, Table 2) beside what skill-sim simulated, per agent.

The paper counts, per agent: teacher MACs, the bytes a student receives, student MACs, and
total = teacher + alpha x bytes + student; efficiency = (one agent's MACs for every task) /
(N x total). Its closed form assumes every agent receives every other agent's package once, one
after the other, and merges it after receiving it. skill-sim's column takes the same formula over
the counts the simulation produced, and its efficiency is the simulated speedup / N.
"""

from __future__ import annotations

from typing import Any

from sim.workload import Workload


def paper_accounting(workload: Workload, n_agents: int, alpha: float) -> dict[str, float]:
    """The paper's closed form from the workload's inputs: means over agents, in MACs and bytes."""
    teacher = float(workload.column("macs").sum())
    nbytes = float(workload.column("nbytes").sum())
    # each package merged alone: its own part plus a whole batch's work (sim.workload.TaskWork)
    student = float(sum(workload.column(k).sum() for k in ("student_macs", "batch_macs", "hold_macs")))
    others = (n_agents - 1) / n_agents if n_agents else 0.0  # every package but its own, per agent
    row = _row(teacher / n_agents, nbytes * others, student * others, alpha)
    row["efficiency"] = teacher / (n_agents * row["total_macs"]) if row["total_macs"] > 0 else None
    return row


def simulated_accounting(results: dict[str, Any]) -> dict[str, float | None]:
    """The same formula over the simulated counts (results.json's headline metrics), with the
    simulated efficiency (speedup / N)."""
    n = results["agents"]
    row = _row(results["teacher_macs"] / n, results["bytes_delivered"] / n, results["student_macs"] / n,
               results["alpha"])
    row["efficiency"] = results["efficiency"]
    return row


def accounting(workload: Workload, results: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """results.json's `accounting`: the paper's closed form and skill-sim's counts, side by side."""
    return {"paper": paper_accounting(workload, results["agents"], results["alpha"]),
            "skill_sim": simulated_accounting(results)}


def _row(teacher: float, nbytes: float, student: float, alpha: float) -> dict[str, Any]:
    """One column: teacher MACs, bytes per student, student MACs and their alpha-weighted total."""
    return {"teacher_macs": teacher, "bytes_per_student": nbytes, "student_macs": student,
            "total_macs": teacher + alpha * nbytes + student}
