"""The receiver's task mapper: merges received task anchors and routes a feature vector to a task.

One class per anchor kind behind one small interface (`add`, `add_batch`, `predict`, `task_ids`);
`create_mapper` picks the class from the learner's mapper config.

Student cost model (MACs a receiver spends to merge anchors, counted as incurred): merging a package
costs its incremental part (GMMC: precisions and constants of its components; Mahalanobis: the
rank-n update of the tied scatter matrix with its n exemplars); a Mahalanobis mapper then renews
its precision and the cached mu P and mu'P mu of every class it holds, once per merge batch: once
for a package that lands alone (`add`), once for all packages that land together (`add_batch`).
The renewal is a full re-inversion, or a Woodbury update where one is exact and cheaper
(`MahalanobisMapper._refresh`; the counted formulas and the rule are agents.merge_costs', which the
simulation charges too). Embedding received exemplar images with the receiver's backbone is the
agent's cost (agents.agent). `merge_parts` splits a lone merge's cost into per package, per batch
and per held package parts (sim.workload.TaskWork) for workloads that charge every batch a full
inversion; runs that learn give the engine each package's exemplars and classes instead
(LearnResult.scatter_parts), from which it tracks each receiver's scatter.
"""

from __future__ import annotations

import abc

import numpy as np
import scipy.linalg

from agents.anchors import GMMCAnchor, MahalanobisAnchor
from agents.config import GMMCConfig, MahalanobisConfig
from agents.errors import LearningError
from agents.merge_costs import Scatter, mahalanobis_scatter_macs, renewal_macs

# Rows scored at once: bounds the [rows, components] score matrix for large test sets.
_CHUNK = 2048
# Eigenvalues (squared Cholesky pivots) below this fraction of the largest count as zero: a
# covariance with such directions is singular (pseudo-inverted, and never Woodbury-updated).
_SINGULAR = 1e-10


class TaskMapper(abc.ABC):
    """Routes features to task ids using the anchors added so far."""

    kind: str = ""
    anchor_type: type = object

    def __init__(self) -> None:
        self._tasks: dict[int, object] = {}

    @property
    def task_ids(self) -> list[int]:
        """Ids of the tasks added, in the order they were added."""
        return list(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)

    def add(self, task_id: int, anchor: GMMCAnchor | MahalanobisAnchor) -> int:
        """Merge one task's anchor; return the student MACs it cost (0 for a task already added)."""
        return self.add_batch([(task_id, anchor)])

    def add_batch(self, items: list[tuple[int, GMMCAnchor | MahalanobisAnchor]]) -> int:
        """Merge anchors that landed together; return their student MACs, with the mapper's
        per-batch work (Mahalanobis: one re-inversion) paid once for the whole batch. Every anchor
        is checked before any is merged, so a refused batch leaves the mapper as it was."""
        fresh: dict[int, GMMCAnchor | MahalanobisAnchor] = {}
        for task_id, anchor in items:
            self._check(int(task_id), anchor, fresh)
            if int(task_id) not in self._tasks:
                fresh.setdefault(int(task_id), anchor)
        if not fresh:
            return 0
        macs = 0
        for task_id, anchor in fresh.items():
            self._tasks[task_id] = anchor
            macs += self._merge(task_id, anchor)
        return macs + self._refresh()

    def _check(self, task_id: int, anchor: object, fresh: dict) -> None:
        if not isinstance(anchor, self.anchor_type):
            raise LearningError(f"a {self.kind} mapper cannot take a {type(anchor).__name__}; every "
                                f"agent must share the same mapper kind ({self.kind})")
        held = next(iter(self._tasks.values()), None) or next(iter(fresh.values()), None)
        if held is not None and anchor.dim != held.dim:
            raise LearningError(f"anchor of task {task_id} has {anchor.dim}-D features, the mapper "
                                f"holds {held.dim}-D ones; all agents must share one backbone")

    def _refresh(self) -> int:
        """Per-batch work after merging (none by default); return its MACs."""
        return 0

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Task id (int64) for each row of features [N, D]."""
        if not self._tasks:
            raise LearningError("the task mapper holds no tasks yet; add() at least one anchor first")
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise LearningError(f"features must be [N, {self.dim}], got shape {x.shape}")
        out = np.empty(len(x), dtype=np.int64)
        for start in range(0, len(x), _CHUNK):
            out[start:start + _CHUNK] = self._predict(x[start:start + _CHUNK])
        return out

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """Feature dimension of the anchors held."""

    @abc.abstractmethod
    def _merge(self, task_id: int, anchor: object) -> int: ...

    @abc.abstractmethod
    def _predict(self, x: np.ndarray) -> np.ndarray: ...


class GMMCMapper(TaskMapper):
    """All tasks' Gaussian components in one mixture; an input goes to the task of its most
    probable component: argmax over tasks t and their components k of w_tk N(x; mu_tk, var_tk)
    (Eq. 4, prior "uniform"); prior "samples" also scales a task's weights by its sample count,
    so a task seen on more data does not count less than one seen on little."""

    kind, anchor_type = "gmmc", GMMCAnchor

    def __init__(self, prior: str = "samples") -> None:
        super().__init__()
        if prior not in ("uniform", "samples"):
            raise LearningError(f"prior must be 'uniform' or 'samples', got {prior!r}")
        self.prior = prior
        self._prec = np.zeros((0, 0))  # [K, D] 1 / variance
        self._mean_prec = np.zeros((0, 0))  # [K, D] mean / variance
        self._const = np.zeros(0)  # [K] log weight - 0.5 (sum log var + sum mean^2 / var)
        self._owner = np.zeros(0, dtype=np.int64)  # [K] task id of each component

    @property
    def dim(self) -> int:
        return next(iter(self._tasks.values())).dim

    def _merge(self, task_id: int, anchor: GMMCAnchor) -> int:
        var = np.maximum(anchor.variances.astype(np.float64), np.finfo(np.float64).tiny)
        mean = anchor.means.astype(np.float64)
        prec = 1.0 / var
        mean_prec = mean * prec
        # log N(x; mu, var) = -0.5 x^2.prec + x.(mu prec) - 0.5 (mu^2.prec + sum log var) - D/2 log 2pi;
        # the last term is shared by every component and dropped (argmax only).
        log_w = np.log(np.maximum(anchor.weights.astype(np.float64), 1e-300))
        if self.prior == "samples":
            log_w = log_w + np.log(anchor.n_samples)
        const = log_w - 0.5 * ((mean * mean_prec).sum(1) + np.log(var).sum(1))
        if len(self._owner) == 0:
            self._prec, self._mean_prec = prec, mean_prec
        else:
            self._prec = np.vstack([self._prec, prec])
            self._mean_prec = np.vstack([self._mean_prec, mean_prec])
        self._const = np.concatenate([self._const, const])
        self._owner = np.concatenate([self._owner, np.full(len(const), task_id, dtype=np.int64)])
        k, d = mean.shape
        return 3 * k * d  # precision, mean*precision, and the constant's dot product per component

    def _predict(self, x: np.ndarray) -> np.ndarray:
        return self._owner[np.argmax(self._scores(x), axis=1)]

    def _scores(self, x: np.ndarray) -> np.ndarray:
        # Expanded quadratic form as two matmuls, in float64: no [N, K, D] tensor, no overflow.
        return -0.5 * (x * x) @ self._prec.T + x @ self._mean_prec.T + self._const

    def task_scores(self, features: np.ndarray) -> np.ndarray:
        """[N, T] each input's best component score within each task held (columns in `task_ids`
        order). A task's score does not depend on the other tasks held, so the mapper of any subset
        of these tasks routes an input to the first task of the subset with the highest score."""
        x = np.asarray(features, dtype=np.float64)
        # A task's components are appended together, so the groups run in task_ids order.
        first = np.flatnonzero(np.r_[True, self._owner[1:] != self._owner[:-1]])
        out = np.empty((len(x), len(first)))
        for start in range(0, len(x), _CHUNK):
            out[start:start + _CHUNK] = np.maximum.reduceat(self._scores(x[start:start + _CHUNK]), first, axis=1)
        return out


class MahalanobisMapper(TaskMapper):
    """Nearest class mean in Mahalanobis distance under one tied covariance over all exemplars
    received, each centred on its class mean (Eq. 5), shrunk toward a scaled identity by
    `shrinkage`; with shrinkage 0 a singular covariance is pseudo-inverted."""

    kind, anchor_type = "mahalanobis", MahalanobisAnchor

    def __init__(self, shrinkage: float = 0.1) -> None:
        super().__init__()
        if not 0 <= shrinkage <= 1:
            raise LearningError(f"shrinkage must lie in [0, 1], got {shrinkage}")
        self.shrinkage = shrinkage
        self._scatter = np.zeros((0, 0))  # sum of centred exemplar outer products
        self._count = 0
        self._means = np.zeros((0, 0))  # [C, D] every class mean received
        self._owner = np.zeros(0, dtype=np.int64)  # [C] task id of each class mean
        # A positive multiple of the precision, which is all the argmin needs: the precision itself,
        # or with shrinkage 0 the inverse scatter S^-1 (precision = count * S^-1), which Woodbury updates.
        self._metric = np.zeros((0, 0))
        self._exact = False  # whether _metric is S^-1 exactly (shrinkage 0, S non-singular): Woodbury applies
        self._fresh: list[np.ndarray] = []  # centred exemplars merged since the last renewal
        self.pseudo_inverse = False  # whether the last inversion found the covariance singular
        self.last_renewal = ""  # "inverse" or "woodbury": how the last batch renewed the precision

    @property
    def dim(self) -> int:
        return next(iter(self._tasks.values())).dim

    @property
    def precision(self) -> np.ndarray:
        """The precision (inverse shrunk covariance) the distances use."""
        return self._metric * self._count if self.shrinkage == 0 else self._metric

    def _check(self, task_id: int, anchor: object, fresh: dict) -> None:
        super()._check(task_id, anchor, fresh)
        if anchor.exemplars is None:
            raise LearningError(f"anchor of task {task_id} carries exemplar images only; embed them with "
                                f"the backbone first (anchor.with_features), as Agent.receive does")

    def _merge(self, task_id: int, anchor: MahalanobisAnchor) -> int:
        means = anchor.class_means.astype(np.float64)
        centred = anchor.exemplars.astype(np.float64) - means[anchor.exemplar_labels]
        d = means.shape[1]
        if self._count == 0 and len(self._means) == 0:
            self._scatter, self._means = np.zeros((d, d)), np.zeros((0, d))
        self._scatter += centred.T @ centred
        self._count += len(centred)
        self._means = np.vstack([self._means, means])
        self._owner = np.concatenate([self._owner, np.full(len(means), task_id, dtype=np.int64)])
        self._fresh.append(centred)
        return mahalanobis_scatter_macs(len(centred), d)

    def _refresh(self) -> int:
        """Renew the precision and the cached mu P, mu'P mu once for the batch; return its MACs."""
        fresh, self._fresh = np.concatenate(self._fresh), []
        n_classes, d = self._means.shape
        n_old = len(self._means_prec) if self._exact else 0  # classes cached under the old precision
        how, macs = renewal_macs(d, len(fresh), n_classes, n_old, self._exact)
        if how == "woodbury":
            self._woodbury(fresh, n_old)
            self.last_renewal = how
            return macs
        self._metric = self._inverse()
        # P is symmetric, so x'P mu = x . (mu P): cache mu P and mu'P mu once per batch; a new
        # precision changes them for every class held.
        self._means_prec = self._means @ self._metric
        self._mean_terms = (self._means_prec * self._means).sum(1)
        self.last_renewal = "inverse"
        return renewal_macs(d, len(fresh), n_classes, 0, False, self.pseudo_inverse)[1]

    def _woodbury(self, u: np.ndarray, n_old: int) -> None:
        """(S + U'U)^-1 = A - A U' (I + U A U')^-1 U A from A = S^-1, for the batch's centred
        exemplars U [n, D]; the cached mu A of classes held before move by the same low-rank term."""
        b = self._metric @ u.T  # A U' [D, n]
        k = np.eye(len(u)) + u @ b
        g = scipy.linalg.cho_solve(scipy.linalg.cho_factor(k), b.T).T  # B K^-1 [D, n]
        self._metric = self._metric - g @ b.T
        self._metric = 0.5 * (self._metric + self._metric.T)  # keep it symmetric against rounding drift
        old = self._means_prec - (self._means[:n_old] @ g) @ b.T
        self._means_prec = np.vstack([old, self._means[n_old:] @ self._metric])
        self._mean_terms = (self._means_prec * self._means).sum(1)

    def _inverse(self) -> np.ndarray:
        """The metric by a full inversion (sets pseudo_inverse and whether Woodbury may follow)."""
        d = self._scatter.shape[0]
        if self.shrinkage == 0:
            shrunk = self._scatter  # inverted as S: its inverse is the precision over the count
        else:
            cov = self._scatter / max(self._count, 1)
            scale = np.trace(cov) / d
            if not scale > 0:  # every exemplar sits on its mean (one sample per class): fall back to I
                scale = 1.0
            shrunk = (1 - self.shrinkage) * cov + self.shrinkage * scale * np.eye(d)
        self.pseudo_inverse = False
        try:
            factor = scipy.linalg.cho_factor(shrunk)
            # A singular scatter still factors when rounding leaves tiny pivots (float32 class means
            # do not centre their exemplars exactly): below _SINGULAR of the largest, it is singular.
            pivots = np.abs(np.diag(factor[0])) ** 2
            if pivots.min() <= _SINGULAR * pivots.max():
                raise np.linalg.LinAlgError("singular to working precision")
            self._exact = self.shrinkage == 0
            return scipy.linalg.cho_solve(factor, np.eye(d))
        except np.linalg.LinAlgError:
            # Only reachable with shrinkage=0 and fewer exemplars than dimensions.
            self.pseudo_inverse, self._exact = True, False
            return scipy.linalg.pinvh(shrunk, rtol=_SINGULAR) if np.any(shrunk) else np.eye(d)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        # (x-mu)' P (x-mu) = x'Px - 2 x'P mu + mu'P mu; x'Px is the same for every class: dropped.
        dist = -2.0 * x @ self._means_prec.T + self._mean_terms
        return self._owner[np.argmin(dist, axis=1)]


def receiver_macs(count: int, d: int, classes: int, m: int, shrinkage: float, batched: bool) -> tuple[int, dict]:
    """Counted student MACs of a receiver merging `count` Mahalanobis packages of `classes` classes
    and m exemplars each in d dimensions (features shared), one at a time or in one batch, with the
    renewals it chose; by this module's cost model without the numerics (so at any scale): the rule
    of agents.merge_costs.Scatter, the one the simulation charges too."""
    n, scatter = classes * m, Scatter(d, shrunk=shrinkage > 0)
    macs, renewals = 0, {}
    for size in ([count] if batched else [1] * count):
        how, cost, scatter = scatter.renew(size * n, size * classes)
        macs += size * mahalanobis_scatter_macs(n, d) + cost
        renewals[how] = renewals.get(how, 0) + 1
    return macs, renewals


def merge_parts(anchor: GMMCAnchor | MahalanobisAnchor, macs_per_image: int, alone: int) -> tuple[int, int, int]:
    """A lone merge's student MACs `alone` (LearnResult.student_macs) split as the simulation charges
    them: (per package, per merge batch, per held package and batch). GMMC: all per package.
    Mahalanobis: embedding its images and its scatter update per package; re-caching its c
    classes (c d**2 + c d) in every batch while held; the rest, the inversion, once per batch."""
    if not isinstance(anchor, MahalanobisAnchor):
        return int(alone), 0, 0
    n, c, d = len(anchor.exemplar_labels), len(anchor.class_means), anchor.dim
    own = mahalanobis_scatter_macs(n, d) + (n * int(macs_per_image) if anchor.shares_images else 0)
    held = c * d * d + c * d
    batch = int(alone) - own - held
    if batch < 0:
        raise LearningError(f"a lone Mahalanobis merge counted {alone} MACs, less than its own parts "
                            f"({own} + {held}); the package and its counted cost do not match")
    return own, batch, held


def create_mapper(cfg: GMMCConfig | MahalanobisConfig) -> TaskMapper:
    """An empty task mapper of the kind the learner's mapper config names."""
    if isinstance(cfg, GMMCConfig):
        return GMMCMapper(prior=cfg.prior)
    if isinstance(cfg, MahalanobisConfig):
        return MahalanobisMapper(shrinkage=cfg.shrinkage)
    raise LearningError(f"unknown mapper config {type(cfg).__name__}; use GMMCConfig or "
                        f"MahalanobisConfig")
