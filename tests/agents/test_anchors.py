"""Task anchors: shapes, determinism, real MAC counts, exemplar choice."""

import numpy as np
import pytest

from agents.anchors import GMMCAnchor, MahalanobisAnchor, fit_anchor
from agents.config import GMMCConfig, MahalanobisConfig
from agents.errors import DataError
from agents.macs import class_means_macs, gmm_fit_macs


def _task(n_per_class=30, c=3, d=8, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(c), n_per_class)
    x = rng.normal(offset, 1, (c, d))[y] + rng.normal(0, 0.3, (len(y), d))
    return x.astype(np.float32), y.astype(np.int64)


def test_gmmc_anchor_shapes_and_determinism():
    x, y = _task()
    a, macs = fit_anchor(x, y, GMMCConfig(k=5), seed=0)
    b, macs_b = fit_anchor(x, y, GMMCConfig(k=5), seed=0)
    assert isinstance(a, GMMCAnchor) and a.kind == "gmmc"
    assert a.means.shape == a.variances.shape == (5, 8) and a.weights.shape == (5,)
    assert a.means.dtype == np.float32 and a.n_samples == 90
    assert np.isclose(a.weights.sum(), 1, atol=1e-5) and (a.variances > 0).all()
    np.testing.assert_array_equal(a.means, b.means)
    assert macs == macs_b
    # At least one EM iteration's worth, as macs.py's formula counts it.
    assert macs >= gmm_fit_macs(90, 8, 5, 1)


def test_gmmc_caps_components_at_sample_count():
    x, y = _task(n_per_class=2, c=2)
    a, _ = fit_anchor(x, y, GMMCConfig(k=25), seed=0)
    assert a.means.shape == (4, 8)
    with pytest.raises(DataError, match="at least 2"):
        fit_anchor(x[:1], y[:1], GMMCConfig(), seed=0)


def test_mahalanobis_anchor_means_exemplars_and_macs():
    x, y = _task(c=3)
    a, macs = fit_anchor(x, y, MahalanobisConfig(m=5), seed=0)
    assert isinstance(a, MahalanobisAnchor) and a.kind == "mahalanobis"
    assert a.class_means.shape == (3, 8) and a.exemplars.shape == (15, 8)
    assert a.exemplar_labels.dtype == np.int64
    assert a.exemplar_labels.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    for i in range(3):
        np.testing.assert_allclose(a.class_means[i], x[y == i].mean(0), rtol=1e-5, atol=1e-6)
        # Exemplars are real samples of their class, all distinct.
        rows = {tuple(r) for r in x[y == i]}
        ex = a.exemplars[a.exemplar_labels == i]
        assert all(tuple(r) in rows for r in ex) and len({tuple(r) for r in ex}) == 5
    assert macs == class_means_macs(90, 8) + 5 * 90 * 8


def test_herding_exemplar_mean_tracks_class_mean_and_keeps_spread():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (200, 4)).astype(np.float32)
    y = np.zeros(200, np.int64)
    a, _ = fit_anchor(x, y, MahalanobisConfig(m=5), seed=0)
    # Herded mean is much closer to the class mean than a typical random 5-sample mean (~0.9).
    assert np.linalg.norm(a.exemplars.mean(0) - a.class_means[0]) < 0.3
    # ...without collapsing onto the mean: exemplars keep a real share of the class spread.
    assert a.exemplars.std(0).mean() > 0.3


def test_mahalanobis_needs_contiguous_classes():
    x, y = _task(c=3)
    keep = y != 1
    with pytest.raises(DataError, match=r"\[1\]"):
        fit_anchor(x[keep], y[keep], MahalanobisConfig(), seed=0)


def test_random_exemplars_are_distinct_real_samples_from_the_seed():
    x, y = _task(c=3)
    cfg = MahalanobisConfig(m=4, exemplars="random")
    a, macs = fit_anchor(x, y, cfg, seed=7)
    b, _ = fit_anchor(x, y, cfg, seed=7)
    c, _ = fit_anchor(x, y, cfg, seed=8)
    np.testing.assert_array_equal(a.exemplars, b.exemplars)
    assert not np.array_equal(a.exemplars, c.exemplars)
    for i in range(3):
        rows = {tuple(r) for r in x[y == i]}
        ex = a.exemplars[a.exemplar_labels == i]
        assert len(ex) == 4 and all(tuple(r) in rows for r in ex) and len({tuple(r) for r in ex}) == 4
    herded, _ = fit_anchor(x, y, MahalanobisConfig(m=4), seed=7)
    assert not np.array_equal(a.exemplars, herded.exemplars)
    assert macs == 90 * 8  # class means only: picking at random costs no MACs


def test_m_above_a_class_size_is_refused_naming_the_field():
    x, y = _task(n_per_class=4, c=2)
    with pytest.raises(DataError, match=r"learner\.mapper\.m = 5.*only 4.*m <= 4"):
        fit_anchor(x, y, MahalanobisConfig(m=5), seed=0)
    a, _ = fit_anchor(x, y, MahalanobisConfig(m=4), seed=0)
    assert len(a.exemplars) == 8


@pytest.mark.parametrize("how", ["herding", "random"])
def test_shared_images_are_the_chosen_exemplars_own_images(how):
    x, y = _task(c=3)
    images = np.random.default_rng(0).integers(0, 256, (len(y), 6, 6, 3), dtype=np.uint8)
    cfg = MahalanobisConfig(share="images", m=3, exemplars=how)
    a, _ = fit_anchor(x, y, cfg, seed=1, images=images)
    assert a.shares_images and a.exemplar_images.shape == (9, 6, 6, 3) and a.exemplar_images.dtype == np.uint8
    for feat, img in zip(a.exemplars, a.exemplar_images):
        row = int(np.flatnonzero((x == feat).all(1))[0])
        np.testing.assert_array_equal(images[row], img)
    with pytest.raises(DataError, match="share = 'images'"):
        fit_anchor(x, y, cfg, seed=1)
