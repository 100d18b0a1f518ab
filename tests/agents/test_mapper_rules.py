"""The mappers' rules against the paper's equations, computed independently with scipy on
hand-built Gaussians: Eq. 4 (GMMC: the task of the most probable component) and Eq. 5
(Mahalanobis: the task of the nearest class mean under the tied covariance of all exemplars)."""

import numpy as np
import pytest
from scipy.spatial.distance import mahalanobis
from scipy.stats import multivariate_normal

from agents.anchors import GMMCAnchor, MahalanobisAnchor
from agents.errors import LearningError
from agents.mapper import GMMCMapper, MahalanobisMapper

D = 5


def _gmmc_bank(seed=0):
    """Three tasks of 2-3 diagonal Gaussians each, overlapping, with very different sample counts."""
    rng = np.random.default_rng(seed)
    bank = {}
    for tid, (k, n) in zip((3, 8, 11), ((2, 40), (3, 4000), (2, 400))):
        means = rng.normal(0, 1.5, (k, D)).astype(np.float32)
        variances = rng.uniform(0.3, 2.0, (k, D)).astype(np.float32)
        weights = rng.dirichlet(np.ones(k)).astype(np.float32)
        bank[tid] = GMMCAnchor(means, variances, weights, n_samples=n)
    return bank


def _eq4(bank, x, prior):
    """argmax over every task's components of log w + log N(x; mu, diag var) [+ log n_t]."""
    best = []
    for row in x:
        scores = {}
        for tid, a in bank.items():
            for mu, var, w in zip(a.means, a.variances, a.weights):
                s = np.log(w) + multivariate_normal(mu.astype(float), np.diag(var.astype(float))).logpdf(row)
                if prior == "samples":
                    s += np.log(a.n_samples)
                scores[(tid, len(scores))] = s
        best.append(max(scores, key=scores.get)[0])
    return np.array(best)


@pytest.mark.parametrize("prior", ["uniform", "samples"])
def test_gmmc_follows_eq4(prior):
    bank = _gmmc_bank()
    mapper = GMMCMapper(prior=prior)
    for tid, a in bank.items():
        mapper.add(tid, a)
    x = np.random.default_rng(1).normal(0, 2, (300, D))
    want = _eq4(bank, x, prior)
    np.testing.assert_array_equal(mapper.predict(x), want)
    assert len(set(want)) == 3  # every task wins somewhere: the test sees all three


def test_gmmc_prior_changes_the_answer():
    """The sample-count prior moves the boundary toward the small task: the two priors disagree."""
    bank = _gmmc_bank()
    x = np.random.default_rng(2).normal(0, 2, (300, D))
    uniform, samples = GMMCMapper("uniform"), GMMCMapper("samples")
    for tid, a in bank.items():
        uniform.add(tid, a)
        samples.add(tid, a)
    differ = uniform.predict(x) != samples.predict(x)
    assert differ.any()
    # Where they differ, the size prior always sides with a task that has more samples.
    n = {tid: a.n_samples for tid, a in bank.items()}
    assert all(n[s] > n[u] for u, s in zip(uniform.predict(x[differ]), samples.predict(x[differ])))
    with pytest.raises(LearningError, match="prior"):
        GMMCMapper(prior="size")


def _maha_bank(seed=0, per_class=6, tasks=((2, 2), (5, 3)), d=D):
    """Tasks of 2-3 classes; each class mean with `per_class` exemplars from a shared correlated
    covariance, so Mahalanobis and Euclidean nearest means disagree."""
    rng = np.random.default_rng(seed)
    a_mat = rng.normal(0, 1, (d, d))
    cov = a_mat @ a_mat.T + 0.2 * np.eye(d)
    bank = {}
    for tid, c in tasks:
        means = rng.normal(0, 2, (c, d))
        labels = np.repeat(np.arange(c), per_class)
        ex = means[labels] + rng.multivariate_normal(np.zeros(d), cov, len(labels))
        bank[tid] = MahalanobisAnchor(means.astype(np.float32), ex.astype(np.float32), labels.astype(np.int64))
    return bank


def _eq5(bank, x, shrinkage):
    """Tied covariance of every exemplar about its class mean, shrunk, inverted (pinv if singular);
    each row goes to the task of the class mean nearest in scipy's Mahalanobis distance."""
    centred = np.concatenate([a.exemplars.astype(float) - a.class_means.astype(float)[a.exemplar_labels]
                              for a in bank.values()])
    d = centred.shape[1]
    cov = sum(np.outer(r, r) for r in centred) / len(centred)
    cov = (1 - shrinkage) * cov + shrinkage * np.trace(cov) / d * np.eye(d)
    vi = np.linalg.pinv(cov, hermitian=True)
    means = [(tid, mu.astype(float)) for tid, a in bank.items() for mu in a.class_means]
    return np.array([min(means, key=lambda m: mahalanobis(row, m[1], vi))[0] for row in x])


@pytest.mark.parametrize("shrinkage", [0.0, 0.3])
def test_mahalanobis_follows_eq5(shrinkage):
    bank = _maha_bank()
    mapper = MahalanobisMapper(shrinkage=shrinkage)
    for tid, a in bank.items():
        mapper.add(tid, a)
    x = np.random.default_rng(3).normal(0, 3, (300, D))
    want = _eq5(bank, x, shrinkage)
    np.testing.assert_array_equal(mapper.predict(x), want)
    assert not mapper.pseudo_inverse
    # Not plain nearest-mean: the tied covariance changes some answers.
    means = [(tid, mu) for tid, a in bank.items() for mu in a.class_means]
    euclid = np.array([min(means, key=lambda m: np.linalg.norm(row - m[1]))[0] for row in x])
    assert (euclid != want).any()


def test_mahalanobis_with_fewer_exemplars_than_dimensions_uses_the_pseudo_inverse():
    bank = _maha_bank(per_class=1, tasks=((0, 2), (1, 2)), d=12)  # 4 exemplars in 12-D: singular
    mapper = MahalanobisMapper(shrinkage=0.0)
    for tid, a in bank.items():
        mapper.add(tid, a)
    assert mapper.pseudo_inverse
    x = np.random.default_rng(4).normal(0, 3, (100, 12))
    np.testing.assert_array_equal(mapper.predict(x), _eq5(bank, x, 0.0))


def test_a_batch_pays_one_inversion_and_routes_as_one_at_a_time():
    """Three packages of 2 classes x 3 exemplars in 8-D. Counted by hand: scatter 6*8*8 = 384 each;
    inverse 4*8**3 // 3 = 682; re-caching mu P and mu'P mu for C classes: C*64 + C*8.
    One batch: 3*384 + 682 + (6*64 + 6*8) = 2266. One at a time (C = 2, 4, 6): 1210 + 1354 + 1498 = 4062."""
    bank = _maha_bank(per_class=3, tasks=((0, 2), (1, 2), (2, 2)), d=8)
    batched, single = MahalanobisMapper(), MahalanobisMapper()
    assert batched.add_batch(list(bank.items())) == 2266
    assert sum(single.add(tid, a) for tid, a in bank.items()) == 4062
    x = np.random.default_rng(5).normal(0, 3, (200, 8))
    np.testing.assert_array_equal(batched.predict(x), single.predict(x))
    assert batched.add_batch(list(bank.items())) == 0  # all known: nothing merged, nothing paid


def test_a_refused_batch_leaves_the_mapper_as_it_was():
    bank = _maha_bank()
    mapper = MahalanobisMapper()
    mapper.add(2, bank[2])
    wrong = MahalanobisAnchor(np.zeros((2, D + 1), np.float32), np.zeros((2, D + 1), np.float32),
                              np.array([0, 1]))
    with pytest.raises(LearningError, match="6-D"):
        mapper.add_batch([(5, bank[5]), (9, wrong)])
    assert mapper.task_ids == [2]
    images_only = MahalanobisAnchor(bank[5].class_means, None, bank[5].exemplar_labels,
                                    np.zeros((6, 4, 4, 3), np.uint8))
    with pytest.raises(LearningError, match="embed"):
        mapper.add(5, images_only)
    assert mapper.task_ids == [2]
