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
    """Class means plus m exemplars per class (what the Mahalanobis mapper shares): as backbone
    features, or as images that each receiver embeds with its own backbone (`share: images`)."""

    class_means: np.ndarray  # float32 [c, D]
    exemplars: np.ndarray | None  # float32 [c*m, D]; None when only images were received
    exemplar_labels: np.ndarray  # int64 [c*m], rows of class_means
    exemplar_images: np.ndarray | None = None  # [c*m, H, W(, C)] as the task stores them (share: images)

    kind = "mahalanobis"

    @property
    def dim(self) -> int:
        return self.class_means.shape[1]

    @property
    def shares_images(self) -> bool:
        """Whether the package carries exemplar images (and no exemplar features)."""
        return self.exemplar_images is not None

    def with_features(self, exemplars: np.ndarray) -> "MahalanobisAnchor":
        """This anchor with its exemplars' features (a receiver's embedding of the images)."""
        return MahalanobisAnchor(self.class_means, np.asarray(exemplars, dtype=np.float32),
                                 self.exemplar_labels, self.exemplar_images)


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


def _random_pick(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """m distinct indices of 0..n-1, uniformly at random, in ascending order."""
    return np.sort(rng.choice(n, size=m, replace=False)).astype(np.int64)


def fit_mahalanobis(features: np.ndarray, labels: np.ndarray, cfg: MahalanobisConfig, seed: int = 0,
                    images: np.ndarray | None = None) -> tuple[MahalanobisAnchor, int]:
    """Class means from all samples plus cfg.m exemplars per class; return the anchor and its MACs.

    Exemplars are picked by herding or at random (cfg.exemplars). Why herding is the default and
    not "nearest to the mean": the receiver estimates its tied covariance from exemplars centred on
    their class means, so exemplars must show the class's spread; the points nearest the mean hide
    it, while herding picks a set whose mean matches the class mean yet still spreads over the
    class, with no random numbers. With cfg.share == "images", `images` (the task's training
    images, rows matching `features`) is required and the anchor also carries the exemplar images.
    """
    x = np.asarray(features, dtype=np.float64)
    n, d = x.shape
    labels = check_labels(labels, int(labels.max()) + 1 if len(labels) else 1, n)
    c = int(labels.max()) + 1 if n else 0
    missing = [i for i in range(c) if not np.any(labels == i)]
    if n == 0 or missing:
        raise DataError(f"a Mahalanobis anchor needs samples of every class 0..{c - 1}; classes "
                        f"{missing} have none (n={n}); relabel classes to be contiguous")
    counts = np.bincount(labels, minlength=c)
    if cfg.m > counts.min():
        raise DataError(f"learner.mapper.m = {cfg.m}, but class {int(counts.argmin())} has only "
                        f"{int(counts.min())} training images; allowed: m <= {int(counts.min())}, the "
                        f"smallest class (or give the task more training images)")
    if cfg.share == "images" and (images is None or len(images) != n):
        raise DataError(f"learner.mapper.share = 'images' needs the task's {n} training images beside "
                        f"its features, got {None if images is None else len(images)}")
    rng = np.random.default_rng(seed)
    means, rows = np.zeros((c, d)), []
    for i in range(c):
        members = np.flatnonzero(labels == i)
        means[i] = x[members].mean(0)
        picked = _herding(x[members], cfg.m) if cfg.exemplars == "herding" else _random_pick(len(members), cfg.m, rng)
        rows.append(members[picked])
    chosen = np.concatenate(rows)
    anchor = MahalanobisAnchor(
        class_means=means.astype(np.float32),
        exemplars=x[chosen].astype(np.float32),
        exemplar_labels=labels[chosen].astype(np.int64),
        exemplar_images=None if cfg.share == "features" else np.ascontiguousarray(np.asarray(images)[chosen]),
    )
    # Herding: each of m picks scores every sample of its class against the running mean (d MACs).
    picking = cfg.m * n * d if cfg.exemplars == "herding" else 0
    return anchor, class_means_macs(n, d) + picking


def fit_anchor(features: np.ndarray, labels: np.ndarray, cfg: GMMCConfig | MahalanobisConfig,
               seed: int, images: np.ndarray | None = None) -> tuple[GMMCAnchor | MahalanobisAnchor, int]:
    """Fit the anchor kind that `cfg` names on one task's training features; return (anchor, MACs).

    `images` (the training images, rows matching `features`) is needed only by a Mahalanobis
    anchor that shares images."""
    features = np.asarray(features)
    if features.ndim != 2:
        raise DataError(f"features must be 2-D [N, D], got shape {features.shape}")
    if isinstance(cfg, GMMCConfig):
        return fit_gmmc(features, cfg, seed)
    if isinstance(cfg, MahalanobisConfig):
        return fit_mahalanobis(features, np.asarray(labels), cfg, seed, images)
    raise DataError(f"unknown mapper config {type(cfg).__name__}; use GMMCConfig or MahalanobisConfig")
