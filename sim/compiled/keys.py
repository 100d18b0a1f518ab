"""How wide the flood loop's arrival keys are: (sender << task_bits) | task, in 63 bits.

Arrivals at one instant are taken in sender order, then task order (docs/architecture.md,
"Simultaneous events"), so the heap orders entries by (time, key). The widths are the run's own;
a run whose agents and tasks need more than 63 bits runs on the SimPy engine. Plain Python: the
runner asks it before loading numba.
"""

from __future__ import annotations


def task_bits(n_agents: int, n_tasks: int) -> int | None:
    """Bits for a task id under the sender's, or None when sender and task need over 63 bits."""
    agent_bits, bits = ((max(2, k) - 1).bit_length() for k in (n_agents, n_tasks))
    return bits if agent_bits + bits <= 63 else None
