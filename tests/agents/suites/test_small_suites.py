"""fashion_mnist, digits and textures: shapes, labels, determinism, train/test disjointness, errors."""

import gzip

import numpy as np
import pytest

from agents.config import SuiteConfig
from agents.errors import DataError
from agents.suites import create_suite, digits, fashion_mnist, textures


def _check(suite, size, n_tasks):
    assert len(suite.tasks) == n_tasks
    for i, t in enumerate(suite.tasks):
        assert t.id == i
        for x, y in ((t.x_train, t.y_train), (t.x_test, t.y_test)):
            assert x.dtype == np.uint8 and x.shape[1:] == (size, size, 3)
            assert y.dtype == np.int64 and set(np.unique(y)) == set(range(t.num_classes))


def _no_shared_images(t):
    train = {bytes(im) for im in t.x_train}
    return not any(bytes(im) in train for im in t.x_test)


def test_fashion_mnist(fmnist_path):
    cfg = SuiteConfig(suite="fashion_mnist", num_tasks=3, train_per_class=20, test_per_class=10, image_size=16)
    s = create_suite(cfg)
    _check(s, 16, 3)
    assert s.tasks[0].classes == ("t-shirt", "trouser")
    assert np.bincount(s.tasks[1].y_train).tolist() == [20, 20]
    assert all(_no_shared_images(t) for t in s.tasks)
    assert create_suite(cfg).fingerprint == s.fingerprint
    assert create_suite(cfg.model_copy(update={"seed": 1})).fingerprint != s.fingerprint
    data = fashion_mnist.load_fashion_mnist(fmnist_path)
    assert data["train"][0].shape == (60000, 28, 28) and data["test"][0].shape == (10000, 28, 28)


def test_fashion_mnist_too_many_tasks(fmnist_path):
    with pytest.raises(DataError, match="num_tasks=6.*distinct"):
        create_suite(SuiteConfig(suite="fashion_mnist", num_tasks=6))


def test_missing_fashion_mnist_names_path_and_fix(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError) as e:
        create_suite(SuiteConfig(suite="fashion_mnist", path=missing))
    assert str(missing) in str(e.value) and "apt-get install -y dataset-fashion-mnist" in str(e.value)
    monkeypatch.setenv(fashion_mnist.ENV_VAR, str(missing))
    with pytest.raises(DataError, match="nowhere"):
        create_suite(SuiteConfig(suite="mixed", num_tasks=2))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        create_suite(SuiteConfig(suite="fashion_mnist", path=tmp_path / "empty"))


def test_read_idx_round_trip_and_truncation(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 8, 3]) + np.array(arr.shape, dtype=">u4").tobytes()
    (tmp_path / "a.gz").write_bytes(gzip.compress(header + arr.tobytes()))
    assert np.array_equal(fashion_mnist.read_idx(tmp_path / "a.gz"), arr)
    (tmp_path / "b").write_bytes(header + arr.tobytes()[:-1])
    with pytest.raises(DataError, match="truncated"):
        fashion_mnist.read_idx(tmp_path / "b")


def test_digits():
    s = create_suite(SuiteConfig(suite="digits", image_size=24))
    _check(s, 24, 5)
    assert s.tasks[2].classes == ("4", "5")
    split = digits.load_digits_split()
    assert len(split["train"][1]) + len(split["test"][1]) == 1797
    assert all(_no_shared_images(t) for t in s.tasks)
    capped = SuiteConfig(suite="digits", train_per_class=10, test_per_class=5, num_tasks=2)
    s1, s2 = create_suite(capped), create_suite(capped)
    assert s1.fingerprint == s2.fingerprint and np.bincount(s1.tasks[0].y_test).tolist() == [5, 5]


def test_textures():
    cfg = SuiteConfig(suite="textures", train_per_class=12, test_per_class=4)
    s = create_suite(cfg)
    _check(s, 32, 5)
    assert sorted(c for t in s.tasks for c in t.classes) == sorted(textures.PHOTOS)
    assert create_suite(cfg).fingerprint == s.fingerprint


def test_texture_test_patches_come_from_unseen_region(monkeypatch):
    # A photo black left of the 70% cut and white right of it: with no pixel shared, every
    # training patch is pure black and every test patch pure white (no filter bleed either).
    def fake_photo(name):
        img = np.zeros((200, 300, 3), dtype=np.uint8)
        img[:, int(textures.TRAIN_FRACTION * 300) :] = 255
        return img

    monkeypatch.setattr(textures, "load_photo", fake_photo)
    textures._pyramid.cache_clear()
    try:
        rng = np.random.default_rng(0)
        assert textures.sample_patches("moon", "train", 50, 16, rng).max() == 0
        assert textures.sample_patches("moon", "test", 50, 16, rng).min() == 255
    finally:
        textures._pyramid.cache_clear()
