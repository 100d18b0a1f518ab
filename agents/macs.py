"""MAC accounting: torch ops are counted by torch's own FLOP counter, scikit-learn fits by formula.

One multiply-accumulate is two FLOPs, so MACs = FLOPs // 2. Counts are per phase (features, head,
bb, anchor) so that reports can show where the cost of learning goes.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from torch.utils.flop_counter import FlopCounterMode

# The merge formulas live in a torch-free module the simulation can import too; re-exported here.
from agents.merge_costs import mahalanobis_inverse_macs, mahalanobis_scatter_macs, woodbury_macs  # noqa: F401

T = TypeVar("T")


def count_macs(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, int]:
    """Run `fn(*args, **kwargs)` under torch's FLOP counter; return its result and the MACs counted."""
    with FlopCounterMode(display=False) as counter:
        result = fn(*args, **kwargs)
    return result, int(counter.get_total_flops()) // 2


def gmm_fit_macs(n: int, d: int, k: int, n_iter: int) -> int:
    """MACs of fitting a diagonal GaussianMixture by EM (scikit-learn's algorithm).

    Per iteration, the E-step evaluates k diagonal log-densities for n points (about 2 MACs per
    dimension: centre-and-scale, square-and-sum) and the M-step re-estimates k means and variances
    from the responsibilities (about 2 MACs per point, component and dimension).
    """
    return int(n_iter) * (2 * n * k * d + 2 * n * k * d)


def gmm_score_macs(n: int, d: int, k: int) -> int:
    """MACs of scoring n points against k diagonal Gaussians (one E-step without the update)."""
    return 2 * n * k * d


def mahalanobis_update_macs(n_new: int, d: int) -> int:
    """MACs for a receiver to merge n_new exemplars into its tied covariance and re-invert it
    (one package landing alone)."""
    return mahalanobis_scatter_macs(n_new, d) + mahalanobis_inverse_macs(d)


def class_means_macs(n: int, d: int) -> int:
    """MACs of computing per-class means: one accumulate per feature of every sample."""
    return n * d
