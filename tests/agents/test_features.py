"""FeatureCache: hits return the same array without recomputing; writes are atomic; corruption heals."""

import json
import os
import stat

import numpy as np
import pytest
import torch

from agents.backbone import create_backbone
from agents.config import BackboneConfig
from agents import atomic, timing
from agents.cache.integrity import CacheWarning
from agents.features import FeatureCache, default_cache_root


@pytest.fixture(scope="module")
def backbone():
    cfg = BackboneConfig(name="resnet18", weights="random", image_size=32, batch_size=16)
    return create_backbone(cfg, torch.device("cpu"))


@pytest.fixture
def images():
    return np.random.default_rng(1).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)


class CountingBackbone:
    """Wraps a backbone and counts calls to features(), to prove a hit computes nothing."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0
        self.fingerprint, self.feature_dim = inner.fingerprint, inner.feature_dim

    def features(self, images):
        self.calls += 1
        return self.inner.features(images)


def test_hit_returns_identical_array_without_recomputing(tmp_path, backbone, images):
    counted = CountingBackbone(backbone)
    cache = FeatureCache(tmp_path)
    first, hit = cache.lookup(counted, images, "task-0/train")
    assert not hit and counted.calls == 1
    second, hit = cache.lookup(counted, images, "task-0/train")
    assert hit and counted.calls == 1
    np.testing.assert_array_equal(first, second)
    assert second.dtype == np.float32 and second.shape == (6, backbone.feature_dim)
    assert (cache.hits, cache.misses) == (1, 1)
    # a fresh cache object over the same directory (another process) hits too
    np.testing.assert_array_equal(FeatureCache(tmp_path).get(counted, images, "task-0/train"), first)
    assert counted.calls == 1


def test_extraction_time_and_provenance_are_stored_with_the_features(tmp_path, backbone, images, monkeypatch):
    ticks = iter([5.0, 7.5])  # the clock read before and after the extraction: 2.5 s
    monkeypatch.setattr(timing, "clock", lambda: next(ticks))
    counted = CountingBackbone(backbone)
    _, hit, record = FeatureCache(tmp_path).lookup_timed(counted, images, "task-0/train")
    assert not hit and record["wall_s"] == 2.5 and timing.is_provenance(record)
    # another run: a hit, the same stored record (the clock is not read again: `ticks` is spent)
    _, hit, again = FeatureCache(tmp_path).lookup_timed(counted, images, "task-0/train")
    assert hit and again == record and counted.calls == 1


@pytest.mark.parametrize("damage", ["missing", "garbage", "negative", "no_host"])
def test_features_without_a_valid_timing_record_are_extracted_again(tmp_path, backbone, images, damage):
    counted = CountingBackbone(backbone)
    cache = FeatureCache(tmp_path)
    cache.lookup(counted, images, "k")
    sidecar = cache.path_for(counted, "k").with_suffix(".json")
    record = json.loads(sidecar.read_text())
    if damage == "missing":  # features cached before their extraction time was recorded
        sidecar.unlink()
    elif damage == "garbage":
        sidecar.write_text("{nope")
    elif damage == "negative":
        sidecar.write_text(json.dumps({**record, "wall_s": -1.0}))
    else:
        sidecar.write_text(json.dumps({k: v for k, v in record.items() if k != "host"}))
    if damage == "missing":  # stale, not bad: extracted again without a warning
        _, hit = FeatureCache(tmp_path).lookup(counted, images, "k")
    else:  # an edited or garbled record breaks its seal: named in a warning
        with pytest.warns(CacheWarning, match=sidecar.stem):
            _, hit = FeatureCache(tmp_path).lookup(counted, images, "k")
    assert not hit and counted.calls == 2
    assert FeatureCache(tmp_path).lookup(counted, images, "k")[1]  # healed: a hit again


def test_keys_separate_data_and_backbones(tmp_path, backbone):
    cache = FeatureCache(tmp_path)
    assert cache.path_for(backbone, "a") != cache.path_for(backbone, "b")
    other = create_backbone(BackboneConfig(name="resnet18", weights="random", image_size=40),
                            torch.device("cpu"))
    assert cache.path_for(backbone, "a") != cache.path_for(other, "a")
    assert cache.path_for(backbone, "a").parent == tmp_path / "features"


@pytest.mark.parametrize("garbage", [b"", b"not a numpy file", None])
def test_corrupt_file_is_recomputed(tmp_path, backbone, images, garbage):
    cache = FeatureCache(tmp_path)
    expected = cache.get(backbone, images, "k")
    path = cache.path_for(backbone, "k")
    if garbage is None:  # valid .npy of the wrong shape: a stale or foreign file
        np.save(path, np.zeros((2, 3), np.float32))
    else:
        path.write_bytes(garbage)
    with pytest.warns(CacheWarning, match=path.name):
        again, hit = cache.lookup(backbone, images, "k")
    assert not hit
    np.testing.assert_array_equal(again, expected)
    np.testing.assert_array_equal(np.load(path, allow_pickle=False), expected)  # healed on disk


def test_truncated_file_is_recomputed(tmp_path, backbone, images):
    cache = FeatureCache(tmp_path)
    expected = cache.get(backbone, images, "k")
    path = cache.path_for(backbone, "k")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(CacheWarning, match="bytes, sealed at"):
        np.testing.assert_array_equal(cache.get(backbone, images, "k"), expected)


def test_failed_write_leaves_no_file(tmp_path, backbone, images, monkeypatch):
    cache = FeatureCache(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)  # mid-write: the temp file exists, not yet renamed
    with pytest.raises(KeyboardInterrupt):
        cache.get(backbone, images, "k")
    assert list((tmp_path / "features").iterdir()) == []


@pytest.mark.parametrize("mask, mode", [(0o002, 0o664), (0o027, 0o640)])
def test_feature_files_honour_the_umask_like_their_records(tmp_path, backbone, images, mask, mode):
    old = os.umask(mask)
    try:
        cache = FeatureCache(tmp_path)
        cache.get(backbone, images, "k")
    finally:
        os.umask(old)
    files = sorted((tmp_path / "features").iterdir())
    assert [p.suffix for p in files] == [".json", ".npy"]
    assert [stat.S_IMODE(p.stat().st_mode) for p in files] == [mode, mode]


def test_files_are_plain_npy_without_pickle(tmp_path, backbone, images):
    cache = FeatureCache(tmp_path)
    cache.get(backbone, images, "k")
    assert np.load(cache.path_for(backbone, "k"), allow_pickle=False).dtype == np.float32


def test_default_root_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILL_SIM_CACHE", str(tmp_path / "c"))
    assert default_cache_root() == tmp_path / "c"
    assert FeatureCache().root == tmp_path / "c"
    monkeypatch.delenv("SKILL_SIM_CACHE")
    assert FeatureCache().root.parts[-2:] == (".cache", "skill-sim")


def test_same_size_corruption_of_test_features_is_named_and_recomputed_equal_to_clean(tmp_path, backbone, images):
    """Issue 14: flipped bytes in cached test features were used silently by the evaluation."""
    counted = CountingBackbone(backbone)
    cache = FeatureCache(tmp_path)
    clean = cache.get(counted, images, "task-0/test")
    path = cache.path_for(counted, "task-0/test")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # a bit of the last float: same size, still a valid float32 array of the right shape
    path.write_bytes(bytes(data))
    assert np.load(path).shape == clean.shape  # what the old check looked at: it passes
    with pytest.warns(CacheWarning, match=rf"{path.name} is bad: its content checksum does not match"):
        again, hit = cache.lookup(counted, images, "task-0/test")
    assert not hit and counted.calls == 2 and cache.discarded == 1
    assert again.tobytes() == clean.tobytes()
    assert path.read_bytes() == cache._encode(clean)  # healed on disk
    assert FeatureCache(tmp_path).lookup(counted, images, "task-0/test")[1]  # and a hit again


def test_a_record_without_its_features_is_discarded(tmp_path, backbone, images):
    cache = FeatureCache(tmp_path)
    cache.get(backbone, images, "k")
    path = cache.path_for(backbone, "k")
    path.unlink()
    with pytest.warns(CacheWarning, match="its .npy file is missing"):
        assert not cache.lookup(backbone, images, "k")[1]
