"""Task mappers: near-perfect routing on clearly distinct tasks, idempotent add, honest MACs."""

import numpy as np
import pytest

from agents.anchors import fit_anchor
from agents.config import GMMCConfig, MahalanobisConfig
from agents.errors import LearningError
from agents.mapper import GMMCMapper, MahalanobisMapper, create_mapper

D = 32


def _tasks(n_tasks=6, c=4, n_per_class=40, seed=0):
    """Each task's features live around its own well-separated centre, classes spread around it."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(n_tasks):
        centre = rng.normal(0, 6, D)
        class_centres = centre + rng.normal(0, 1.0, (c, D))
        y = np.repeat(np.arange(c), n_per_class)
        x_tr = class_centres[y] + rng.normal(0, 0.5, (len(y), D))
        x_te = class_centres[y] + rng.normal(0, 0.5, (len(y), D))
        out.append((x_tr.astype(np.float32), y, x_te.astype(np.float32)))
    return out


@pytest.mark.parametrize("cfg", [GMMCConfig(k=5), MahalanobisConfig(m=5)], ids=["gmmc", "maha"])
def test_mapper_routes_distinct_tasks(cfg):
    tasks = _tasks()
    mapper = create_mapper(cfg)
    for t, (x, y, _) in enumerate(tasks):
        anchor, _ = fit_anchor(x, y, cfg, seed=t)
        assert mapper.add(100 + t, anchor) > 0
    assert mapper.task_ids == [100 + t for t in range(len(tasks))]
    x_te = np.concatenate([x for _, _, x in tasks])
    truth = np.repeat([100 + t for t in range(len(tasks))], [len(x) for _, _, x in tasks])
    pred = mapper.predict(x_te)
    assert pred.dtype == np.int64 and (pred == truth).mean() >= 0.99


@pytest.mark.parametrize("cfg", [GMMCConfig(k=3), MahalanobisConfig()], ids=["gmmc", "maha"])
def test_add_twice_is_a_noop(cfg):
    (x, y, x_te), (x2, y2, _) = _tasks(n_tasks=2)
    mapper = create_mapper(cfg)
    a, _ = fit_anchor(x, y, cfg, seed=0)
    b, _ = fit_anchor(x2, y2, cfg, seed=0)
    mapper.add(0, a)
    mapper.add(1, b)
    before = mapper.predict(x_te)
    assert mapper.add(0, a) == 0 and mapper.add(1, a) == 0
    assert mapper.task_ids == [0, 1] and len(mapper) == 2
    np.testing.assert_array_equal(mapper.predict(x_te), before)


def test_gmmc_weights_by_sample_count():
    """Two identical components: the task with more samples wins; a single tiny-variance one
    still wins right on its mean (log-densities, no underflow)."""
    from agents.anchors import GMMCAnchor

    m = np.zeros((1, 2), np.float32)
    v = np.ones((1, 2), np.float32)
    w = np.ones(1, np.float32)
    mapper = GMMCMapper()
    mapper.add(0, GMMCAnchor(m, v, w, n_samples=10))
    mapper.add(1, GMMCAnchor(m, v, w, n_samples=1000))
    assert mapper.predict(np.zeros((1, 2))).tolist() == [1]
    mapper.add(2, GMMCAnchor(m + 50, v * 1e-6, w, n_samples=1))
    assert mapper.predict(np.array([[50.0, 50.0], [0.0, 0.0]])).tolist() == [2, 1]


def test_mahalanobis_student_macs_and_invertible_with_few_exemplars():
    (x, y, _), = _tasks(n_tasks=1, c=2)
    cfg = MahalanobisConfig(m=2, shrinkage=0.1)  # 4 exemplars in 32-D: singular scatter
    anchor, _ = fit_anchor(x, y, cfg, seed=0)
    mapper = MahalanobisMapper(shrinkage=cfg.shrinkage)
    macs = mapper.add(0, anchor)
    # By hand, D = 32: scatter 4 * 1,024 = 4,096; inverse 4 * 32,768 // 3 = 43,690; re-caching
    # mu P and mu'P mu for 2 classes 2 * 1,024 + 2 * 32 = 2,112.
    assert macs == 4_096 + 43_690 + 2_112
    assert np.isfinite(mapper.precision).all()
    np.testing.assert_allclose(mapper.precision, mapper.precision.T, atol=1e-8)


def test_mapper_errors_name_the_fix():
    mapper = GMMCMapper()
    with pytest.raises(LearningError, match="add"):
        mapper.predict(np.zeros((1, D)))
    (x, y, _), = _tasks(n_tasks=1)
    maha, _ = fit_anchor(x, y, MahalanobisConfig(), seed=0)
    with pytest.raises(LearningError, match="gmmc"):
        mapper.add(0, maha)
    g, _ = fit_anchor(x, y, GMMCConfig(k=2), seed=0)
    mapper.add(0, g)
    with pytest.raises(LearningError, match=r"\[N, 32\]"):
        mapper.predict(np.zeros((1, 5)))
    with pytest.raises(LearningError, match="shrinkage"):
        MahalanobisMapper(shrinkage=2)
