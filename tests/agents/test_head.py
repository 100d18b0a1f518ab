"""Head training: learns a separable problem, is deterministic, never mixes train and val."""

import numpy as np
import pytest

from agents.config import HeadConfig
from agents.errors import DataError
from agents.head import split_train_val, train_head


def _blobs(n_per_class: int = 60, c: int = 4, d: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (c, d))
    y = np.repeat(np.arange(c), n_per_class)
    x = centres[y] + rng.normal(0, 1, (len(y), d))
    return x.astype(np.float32), y.astype(np.int64)


CFG = HeadConfig(epochs=15, patience=4, batch_size=64)


def test_head_learns_separable_problem():
    x, y = _blobs()
    res = train_head(x, y, 4, CFG, seed=0)
    assert res.weight.shape == (4, 16) and res.weight.dtype == np.float32
    assert res.bias.shape == (4,)
    assert res.val_accuracy > 0.95
    assert 1 <= res.best_epoch <= res.epochs_run <= CFG.epochs
    assert res.macs > 0
    # The restored head really is the one scored: accuracy on the whole set is high too.
    pred = (x @ res.weight.T + res.bias).argmax(1)
    assert (pred == y).mean() > 0.95


def test_head_is_deterministic_under_a_seed():
    x, y = _blobs()
    a = train_head(x, y, 4, CFG, seed=3)
    b = train_head(x, y, 4, CFG, seed=3)
    c = train_head(x, y, 4, CFG, seed=4)
    np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(a.bias, b.bias)
    assert a.macs == b.macs and a.epochs_run == b.epochs_run
    assert not np.array_equal(a.weight, c.weight)


def test_head_macs_match_hand_count_for_one_epoch():
    """One full-batch epoch: the FLOP counter sees exactly the matmuls we expect, nothing guessed."""
    x, y = _blobs(n_per_class=20, c=2, d=8)
    cfg = HeadConfig(epochs=1, patience=1, batch_size=1000, val_fraction=0.25)
    res = train_head(x, y, 2, cfg, seed=0)
    n_tr, n_val = 30, 10
    # addmm forward (n*d*c) + weight grad (n*d*c) (no input grad: features need none) + val forward.
    assert res.macs == n_tr * 8 * 2 * 2 + n_val * 8 * 2


def test_split_is_stratified_disjoint_and_seeded():
    y = np.repeat(np.arange(3), [10, 20, 2])
    tr, va = split_train_val(y, 0.2, seed=1)
    assert set(tr).isdisjoint(va) and len(tr) + len(va) == len(y)
    assert np.bincount(y[va]).tolist() == [2, 4, 1]
    tr2, va2 = split_train_val(y, 0.2, seed=1)
    np.testing.assert_array_equal(va, va2)


def test_bad_labels_raise_data_error():
    x, y = _blobs(n_per_class=5, c=2)
    with pytest.raises(DataError, match="0..1"):
        train_head(x, y + 1, 2, CFG, seed=0)
    with pytest.raises(DataError, match="2-D"):
        train_head(x[0], y, 2, CFG, seed=0)
