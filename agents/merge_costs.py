"""A Mahalanobis receiver's merge costs as plain numbers: the counted MACs of its scatter update,
inversion and Woodbury renewal, the rule that picks between them, and the scatter state that rule
reads. Pure Python (no numpy, no torch), so the simulation (sim.engine.merging) charges the same
rule the learner's mapper (agents.mapper) follows, from one formula.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


def mahalanobis_scatter_macs(n_new: int, d: int) -> int:
    """MACs of a rank-n_new update of a d x d scatter matrix (the incremental part of a merge)."""
    return n_new * d * d


def mahalanobis_inverse_macs(d: int, pseudo: bool = False) -> int:
    """MACs of inverting the d x d tied covariance: Cholesky factor (d**3 / 3) plus the solve for
    the precision (d**3). When the factor fails (a singular covariance): the failed attempt (at
    most d**3 / 3), then the pseudo-inverse's symmetric eigendecomposition (about 4.5 d**3, Golub &
    Van Loan) and V diag V' (d**3)."""
    if pseudo:
        return d**3 // 3 + (11 * d**3) // 2
    return (4 * d**3) // 3


def woodbury_macs(n_new: int, d: int) -> int:
    """MACs of updating a d x d inverse A = S^-1 for S + U U' with U of n_new columns (Woodbury):
    B = A U (d**2 n), K = I + U'B (d n**2), K's Cholesky factor (n**3 / 3), G = B K^-1 by two
    triangular solves per row of B (d n**2), A - G B' (d**2 n)."""
    n = n_new
    return 2 * d * d * n + 2 * d * n * n + n**3 // 3


def renewal_macs(d: int, n_fresh: int, n_classes: int, n_cached: int, exact: bool,
                 pseudo: bool = False) -> tuple[str, int]:
    """How a Mahalanobis mapper renews its precision after a batch of n_fresh exemplars, and the
    MACs: "woodbury" where the held inverse is exact (`exact`: shrinkage 0, non-singular scatter)
    and the update (woodbury_macs, moving the n_cached classes' mu P by a rank-n term, caching the
    new classes, every mu'P mu) costs fewer MACs than re-inverting; else "inverse" (a pseudo-inverse
    when `pseudo`) and re-caching mu P and mu'P mu of all n_classes."""
    full = mahalanobis_inverse_macs(d) + n_classes * d * d + n_classes * d
    if exact:
        woodbury = (woodbury_macs(n_fresh, d) + 2 * n_cached * d * n_fresh
                    + (n_classes - n_cached) * d * d + n_classes * d)
        if woodbury < full:
            return "woodbury", woodbury
    return "inverse", mahalanobis_inverse_macs(d, pseudo) + n_classes * d * d + n_classes * d


@dataclass(frozen=True)
class Scatter:
    """A Mahalanobis receiver's tied scatter as the cost model sees it, for data in general
    position: each package raises its rank by its exemplars (they are centred on means over all
    of a class's samples, not on their own mean), so the scatter is singular until `exemplars`
    reaches `dim`. `exact`: the metric held is S^-1 exactly (only without shrinkage, once
    non-singular), the one state from which Woodbury applies."""

    dim: int
    shrunk: bool  # shrinkage > 0: the covariance is never singular and never Woodbury-updated
    exemplars: int = 0  # exemplars merged (the scatter's rank, uncapped)
    classes: int = 0  # class means held (each re-cached under a new precision)
    exact: bool = False

    def renew(self, n_fresh: int, c_fresh: int) -> tuple[str, int, "Scatter"]:
        """Merge a batch of n_fresh exemplars and c_fresh classes and renew the precision once:
        how (renewal_macs' choice, "inverse (pseudo)" for a singular scatter), its MACs (the
        scatter updates not included) and the state after."""
        cached = self.classes if self.exact else 0
        after = replace(self, exemplars=self.exemplars + n_fresh, classes=self.classes + c_fresh)
        how, macs = renewal_macs(self.dim, n_fresh, after.classes, cached, self.exact)
        if how == "woodbury":
            return how, macs, after
        pseudo = after.singular
        macs = renewal_macs(self.dim, n_fresh, after.classes, 0, False, pseudo)[1]
        return how + (" (pseudo)" if pseudo else ""), macs, replace(after, exact=not self.shrunk and not pseudo)

    @property
    def singular(self) -> bool:
        """Whether the (unshrunk) covariance has fewer exemplars than dimensions."""
        return not self.shrunk and self.exemplars < self.dim

    def learned(self, n: int, c: int) -> "Scatter":
        """The owner merged a task it learned and renewed its precision (part of learning, not
        charged as student work): afterwards the metric is exact wherever it can be."""
        after = replace(self, exemplars=self.exemplars + n, classes=self.classes + c)
        return replace(after, exact=not after.shrunk and not after.singular)

    def dropped(self, n: int, c: int) -> "Scatter":
        """Packages left the bank: their exemplars and classes go, and the held metric is no
        longer the scatter's inverse (the next batch re-inverts)."""
        return replace(self, exemplars=self.exemplars - n, classes=self.classes - c, exact=False)
