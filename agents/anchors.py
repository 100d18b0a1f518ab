"""Task anchors: compact, plain-numpy summaries of a task's features that let a receiver route an
input to the right head with no task oracle. GMMC: k diagonal Gaussians; Mahalanobis: class means
plus m exemplar features per class."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from agents.config import GMMCConfig, MahalanobisConfig
from agents.errors import DataError
from agents.head import check_labels
from agents.macs import class_means_macs, gmm_fit_macs



@dataclass(frozen=True, eq=False)
class GMMCAnchor:
    """k diagonal Gaussian clusters of one task's features (what GMMC shares)."""

    means: np.ndarray  # float32 [k, D]
    variances: np.ndarray  # float32 [k, D], diagonal covariances
    weights: np.ndarray  # float32 [k], sum to 1
    n_samples: int  # receivers weight this task's components by it

    kind = "gmmc"

    @property
    def dim(self) -> int:
        return self.means.shape[1]


@dataclass(frozen=True, eq=False)
class MahalanobisAnchor:
    """Class means plus exemplar features per class (what the Mahalanobis mapper shares)."""

    class_means: np.ndarray  # float32 [c, D]
    exemplars: np.ndarray  # float32 [c*m, D] (fewer when a class has fewer than m samples)
    exemplar_labels: np.ndarray  # int64 [c*m], rows of class_means

    kind = "mahalanobis"

    @property
    def dim(self) -> int:
        return self.class_means.shape[1]


def _kmeans_macs(n: int, d: int, k: int, n_iter: int) -> int:
    """MACs of k-means++ seeding (2 + ln k trials per centre, n*d each) plus Lloyd iterations.

    Each Lloyd iteration computes n*k distances of d MACs and re-averages n points (n*d).
    """
    trials = 2 + int(math.log(k)) if k > 1 else 1
    return k * trials * n * d + n_iter * (n * k * d + n * d)


def fit_gmmc(features: np.ndarray, cfg: GMMCConfig, seed: int) -> tuple[GMMCAnchor, int]:
    """Fit min(k, n) diagonal Gaussians by EM from a k-means start; return the anchor and its MACs.

    The k-means start is what GaussianMixture does by default; running it here lets us count its
    iterations for real instead of guessing them.
    """
    x = np.asarray(features, dtype=np.float64)
    n, d = x.shape
    if n < 2:
        raise DataError(f"a GMMC anchor needs at least 2 feature vectors, got {n}; give the task more "
                        f"training samples")
    k = min(cfg.k, n)
    km = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(x)
    resp = np.zeros((n, k))
    resp[np.arange(n), km.labels_] = 1.0
    nk = resp.sum(0) + 10 * np.finfo(np.float64).eps  # as scikit-learn does, so no cluster is empty
    means = resp.T @ x / nk[:, None]
    variances = resp.T @ (x * x) / nk[:, None] - means**2 + cfg.reg_covar
    gm = GaussianMixture(
        n_components=k, covariance_type="diag", max_iter=cfg.max_iter, random_state=seed,
        reg_covar=cfg.reg_covar, init_params="random_from_data",  # overridden by the *_init below
        weights_init=nk / n, means_init=means, precisions_init=1.0 / variances,
    ).fit(x)
    anchor = GMMCAnchor(
        means=gm.means_.astype(np.float32),
        variances=gm.covariances_.astype(np.float32),
        weights=gm.weights_.astype(np.float32),
        n_samples=int(n),
    )
    macs = _kmeans_macs(n, d, k, int(km.n_iter_)) + gmm_fit_macs(n, d, k, int(gm.n_iter_))
    return anchor, macs


def _herding(x: np.ndarray, m: int) -> np.ndarray:
    """Indices of m samples picked greedily so their running mean tracks the class mean (iCaRL)."""
    mu = x.mean(0)
    chosen: list[int] = []
    running = np.zeros_like(mu)
    available = np.ones(len(x), dtype=bool)
    for t in range(1, min(m, len(x)) + 1):
        dist = np.linalg.norm(mu - (running + x) / t, axis=1)
        dist[~available] = np.inf
        i = int(np.argmin(dist))  # ties: lowest index, so the choice is deterministic
        chosen.append(i)
        available[i] = False
        running += x[i]
    return np.asarray(chosen, dtype=np.int64)


def fit_mahalanobis(features: np.ndarray, labels: np.ndarray, cfg: MahalanobisConfig
                    ) -> tuple[MahalanobisAnchor, int]:
    """Class means from all samples plus cfg.exemplars herded exemplars per class; return anchor, MACs.

    Why herding and not "nearest to the mean": the receiver estimates its tied covariance from
    exemplars centred on their class means, so exemplars must show the class's spread; the points
    nearest the mean hide it (the covariance would shrink), while herding picks a set whose mean
    matches the class mean yet still spreads over the class. It needs no random numbers.
    """
    x = np.asarray(features, dtype=np.float64)
    n, d = x.shape
    labels = check_labels(labels, int(labels.max()) + 1 if len(labels) else 1, n)
    c = int(labels.max()) + 1 if n else 0
    missing = [i for i in range(c) if not np.any(labels == i)]
    if n == 0 or missing:
        raise DataError(f"a Mahalanobis anchor needs samples of every class 0..{c - 1}; classes "
                        f"{missing} have none (n={n}); relabel classes to be contiguous")
    means, ex, ex_labels = np.zeros((c, d)), [], []
    for i in range(c):
        xi = x[labels == i]
        means[i] = xi.mean(0)
        picked = _herding(xi, cfg.exemplars)
        ex.append(xi[picked])
        ex_labels.append(np.full(len(picked), i, dtype=np.int64))
    anchor = MahalanobisAnchor(
        class_means=means.astype(np.float32),
        exemplars=np.concatenate(ex).astype(np.float32),
        exemplar_labels=np.concatenate(ex_labels),
    )
    # Herding: each of m picks scores every sample of its class against the running mean (d MACs).
    return anchor, class_means_macs(n, d) + cfg.exemplars * n * d


def fit_anchor(features: np.ndarray, labels: np.ndarray, cfg: GMMCConfig | MahalanobisConfig,
               seed: int) -> tuple[GMMCAnchor | MahalanobisAnchor, int]:
    """Fit the anchor kind that `cfg` names on one task's training features; return (anchor, MACs)."""
    features = np.asarray(features)
    if features.ndim != 2:
        raise DataError(f"features must be 2-D [N, D], got shape {features.shape}")
    if isinstance(cfg, GMMCConfig):
        return fit_gmmc(features, cfg, seed)
    if isinstance(cfg, MahalanobisConfig):
        return fit_mahalanobis(features, np.asarray(labels), cfg)
    raise DataError(f"unknown mapper config {type(cfg).__name__}; use GMMCConfig or MahalanobisConfig")
