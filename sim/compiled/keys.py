"""How wide the flood loop's arrival keys are: (sender << task_bits) | task, in 63 bits.

Arrivals at one instant are taken in sender order, then task order (docs/architecture.md,
"Simultaneous events"), so the heap orders entries by (time, key). The widths are the run's own;
a heap entry's payload packs its direction and receiver in 32 bits each. A run that does not fit
runs on the SimPy engine. Plain Python: the runner asks it before loading numba.
"""

from __future__ import annotations


def task_bits(n_agents: int, n_tasks: int, n_dirs: int) -> int | None:
    """Bits for a task id under the sender's, or None when sender and task need over 63 bits or
    agents and directions over 31 and 32 bits."""
    agent_bits, bits = ((max(2, k) - 1).bit_length() for k in (n_agents, n_tasks))
    fits = agent_bits + bits <= 63 and n_agents < 1 << 31 and n_dirs <= 1 << 32
    return bits if fits else None
