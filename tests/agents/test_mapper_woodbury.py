"""The Mahalanobis mapper's Woodbury renewal: the same precision as a full re-inversion, its MACs
counted by hand, and the rule that picks it (exact only at shrinkage 0 on a non-singular scatter,
taken only when it costs fewer MACs than re-inverting)."""

import numpy as np
import pytest

from agents.anchors import MahalanobisAnchor
from agents.mapper import MahalanobisMapper


def _anchor(rng, classes, per_class, d):
    """Random class means with `per_class` correlated exemplars each."""
    mix = rng.normal(0, 1, (d, d))
    means = rng.normal(0, 2, (classes, d))
    labels = np.repeat(np.arange(classes), per_class)
    ex = means[labels] + rng.normal(0, 1, (len(labels), d)) @ mix
    return MahalanobisAnchor(means.astype(np.float32), ex.astype(np.float32), labels.astype(np.int64))


def _relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_woodbury_equals_a_full_reinversion_on_random_data():
    rng = np.random.default_rng(0)
    d = 40
    bank = {0: _anchor(rng, 5, 20, d)}  # 100 exemplars, rank 95 >= 40: non-singular from the start
    bank.update({t: _anchor(rng, 2, 3, d) for t in range(1, 8)})  # 6 exemplars each: low rank
    mapper = MahalanobisMapper(shrinkage=0.0)
    mapper.add(0, bank[0])
    assert mapper.last_renewal == "inverse" and not mapper.pseudo_inverse
    for t in range(1, 8):
        mapper.add(t, bank[t])
        assert mapper.last_renewal == "woodbury"
    full = MahalanobisMapper(shrinkage=0.0)
    full.add_batch(list(bank.items()))
    assert full.last_renewal == "inverse"
    assert _relative(mapper.precision, full.precision) < 1e-8
    assert _relative(mapper._means_prec, full._means_prec) < 1e-8
    assert _relative(mapper._mean_terms, full._mean_terms) < 1e-8
    x = rng.normal(0, 3, (500, d))
    np.testing.assert_array_equal(mapper.predict(x), full.predict(x))
    # and against numpy's own inverse of the shrinkage-0 covariance, computed here from the exemplars
    centred = np.concatenate([a.exemplars.astype(float) - a.class_means.astype(float)[a.exemplar_labels]
                              for a in bank.values()])
    want = np.linalg.inv(centred.T @ centred / len(centred))
    assert _relative(mapper.precision, want) < 1e-8


def test_a_woodbury_batch_is_counted_by_hand():
    """d = 8; task 0: 3 classes x 6 exemplars (rank 15: exact inverse). Task 1: 1 class x 2
    exemplars (n = 2). Scatter 2*64 = 128. Woodbury: A U 64*2 = 128, U'B 8*4 = 32, K's factor
    8 // 3 = 2, G 8*4 = 32, A - G B' 64*2 = 128 -> 322; the 3 classes held move by (mu G) B':
    3*8*2 twice = 96; the new class cached under the new metric 64; mu'P mu for 4 classes 32.
    Woodbury in all 128 + 322 + 96 + 64 + 32 = 642, against re-inverting 128 + 4*512 // 3 = 682
    plus re-caching 4*64 + 4*8 = 288 (1098)."""
    rng = np.random.default_rng(1)
    mapper = MahalanobisMapper(shrinkage=0.0)
    mapper.add(0, _anchor(rng, 3, 6, 8))
    assert mapper.add(1, _anchor(rng, 1, 2, 8)) == 642
    assert mapper.last_renewal == "woodbury"


def test_the_rule_reinverts_when_woodbury_costs_more():
    """d = 8 and a batch of 16 exemplars: Woodbury's 2*64*16 + 2*8*256 + 4096 // 3 = 7557 MACs
    exceed re-inverting (682 plus re-caching), so the mapper re-inverts."""
    rng = np.random.default_rng(2)
    mapper = MahalanobisMapper(shrinkage=0.0)
    mapper.add(0, _anchor(rng, 3, 6, 8))
    big = _anchor(rng, 2, 8, 8)
    assert mapper.add(1, big) == 16 * 64 + 682 + 5 * 64 + 5 * 8
    assert mapper.last_renewal == "inverse"


@pytest.mark.parametrize("shrinkage, singular", [(0.1, False), (0.0, True)])
def test_no_woodbury_where_it_would_not_be_exact(shrinkage, singular):
    """Shrinkage toward a trace-scaled identity changes the matrix by more than a low-rank term,
    and a pseudo-inverse is no inverse to update: both re-invert."""
    rng = np.random.default_rng(3)
    d = 12
    mapper = MahalanobisMapper(shrinkage=shrinkage)
    mapper.add(0, _anchor(rng, 2, 2, d) if singular else _anchor(rng, 4, 6, d))
    assert mapper.pseudo_inverse == singular
    mapper.add(1, _anchor(rng, 1, 2, d))
    assert mapper.last_renewal == "inverse"


def test_a_lone_merge_splits_into_the_parts_the_simulation_charges():
    """2 classes x 3 exemplars in 8-D landing alone (shrinkage 0.1): scatter 6*64 = 384, inverse
    4*512 // 3 = 682, its 2 classes re-cached 2*(64 + 8) = 144: 1210 in all. The simulation charges
    384 per package (+ 6 images x 10 MACs when images travel), 682 per batch, 144 per batch while
    held; the package's LearnResult gives the same split from its bytes."""
    from agents.learner import LearnResult
    from agents.mapper import merge_parts
    from agents.package import SharePackage

    rng = np.random.default_rng(4)
    anchor = _anchor(rng, 2, 3, 8)
    alone = MahalanobisMapper().add(0, anchor)
    assert alone == 1210
    assert merge_parts(anchor, 10, alone) == (384, 682, 144)
    with_images = MahalanobisAnchor(anchor.class_means, None, anchor.exemplar_labels, np.zeros((6, 4, 4, 3), np.uint8))
    assert merge_parts(with_images, 10, alone + 60) == (384 + 60, 682, 144)
    package = SharePackage(0, "t", ("a", "b"), np.zeros((2, 8), np.float32), np.zeros(2, np.float32), None, anchor)
    result = LearnResult(task_id=0, package=package.to_bytes("fp32"), teacher_macs={"head": 1}, student_macs=alone,
                         wall_s=0.0)
    assert result.merge_parts(10) == (384, 682, 144)


@pytest.mark.parametrize("shrinkage", [0.0, 0.1])
@pytest.mark.parametrize("batched", [False, True])
def test_the_cost_model_without_numerics_counts_what_the_mapper_counts(shrinkage, batched):
    """receiver_macs (used at the paper's scale, where the numerics are too slow here) against a
    real receiver of 8 random packages (3 classes x 3 exemplars, 24-D, exemplars not centred on
    their own mean, as fit_mahalanobis's are not): pseudo-inverses, then an exact inverse, then
    Woodbury renewals at shrinkage 0; full re-inversions at 0.1."""
    from agents.mapper import receiver_macs

    rng = np.random.default_rng(5)
    items = [(t, _anchor(rng, 3, 3, 24)) for t in range(8)]
    mapper, renewals = MahalanobisMapper(shrinkage=shrinkage), {}
    if batched:
        macs = mapper.add_batch(items)
        renewals[mapper.last_renewal] = 1
    else:
        macs = 0
        for tid, anchor in items:
            macs += mapper.add(tid, anchor)
            how = mapper.last_renewal + (" (pseudo)" if mapper.pseudo_inverse and mapper.last_renewal == "inverse" else "")
            renewals[how] = renewals.get(how, 0) + 1
    want, counted = receiver_macs(8, 24, 3, 3, shrinkage, batched)
    assert macs == want and renewals == counted
    if shrinkage == 0 and not batched:
        assert counted == {"inverse (pseudo)": 2, "inverse": 1, "woodbury": 5}  # rank 9, 18, 27 >= 24
