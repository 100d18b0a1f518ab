"""Streaming image files through the backbone: the same features as the in-memory path, memory that
does not grow with the number of images, bad files named, and precision that leaves MACs alone."""

import hashlib
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from agents.backbone import PREPROCESS_VERSION, create_backbone, fill_batch, resolve_precision
from agents.config import BackboneConfig, SuiteConfig
from agents.errors import DataError
from agents.features import FeatureCache
from agents.loader import default_workers, image_batches
from agents.suites import create_suite
from agents.suites.files import ImageFiles, load_image

SMALL = BackboneConfig(name="resnet18", weights="random", image_size=32, batch_size=7, workers=0)


@pytest.fixture(scope="module")
def small():
    return create_backbone(SMALL, torch.device("cpu"))


def _write_images(folder: Path, n: int, seed: int = 0, fmt: str = "png") -> list[Path]:
    """n random images of varied sizes (some grey), as real files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        h, w = 24 + i % 17, 30 + (3 * i) % 23
        shape = (h, w) if i % 4 == 0 else (h, w, 3)
        path = folder / f"{i:04d}.{fmt}"
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def test_streamed_features_are_bitwise_those_of_the_same_images_in_memory(small, tmp_path):
    # Both paths see the same uint8 pixels (load_image) in the same batches of 7, so every float
    # operation is the same one: equality is exact, not approximate.
    paths = _write_images(tmp_path / "img", 23)
    in_memory = np.stack([load_image(p, small.image_size) for p in paths])
    expected = small.features(in_memory)
    for workers in (0, 2):
        small.workers = workers
        np.testing.assert_array_equal(small.features(ImageFiles(tuple(paths))), expected)
    small.workers = 0
    # A set size is kept (files squashed to 16, then the backbone's own resize): as an array at 16.
    at16 = np.stack([load_image(p, 16) for p in paths])
    np.testing.assert_array_equal(small.features(ImageFiles(tuple(paths), 16)), small.features(at16))


def test_streamed_features_land_in_the_cache_and_are_read_back_equal(small, tmp_path):
    paths = _write_images(tmp_path / "img", 9)
    files = ImageFiles(tuple(paths))
    cache = FeatureCache(tmp_path / "cache")
    first, hit = cache.lookup(small, files, "k")
    again, hit2 = cache.lookup(small, files, "k")
    assert (hit, hit2) == (False, True)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, small.features(np.stack([load_image(p, 32) for p in paths])))
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def _peak_bytes(files: ImageFiles, batch_size: int = 16) -> int:
    """Peak bytes Python and numpy held while every batch of `files` was decoded and handed on."""
    tracemalloc.start()
    try:
        for _batch in image_batches(files, batch_size):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_of_a_folder_suite_does_not_grow_with_its_images(tmp_path):
    # 800 decoded images at 32 px are 2.4 MB (what loading them all would hold); a batch is 49 KB.
    # (The backbone's share is per batch too; bench/scale.py measures the whole pipeline's RSS.)
    paths = _write_images(tmp_path / "img", 800)
    few = _peak_bytes(ImageFiles(tuple(paths[:200]), 32))
    many = _peak_bytes(ImageFiles(tuple(paths), 32))
    all_decoded = 800 * 32 * 32 * 3
    assert many < 1.5 * few + 256_000, (few, many)
    assert many < all_decoded / 4, (many, all_decoded)


def test_a_file_that_stops_decoding_mid_run_is_named_not_a_worker_traceback(small, tmp_path):
    paths = _write_images(tmp_path / "img", 10, fmt="jpg")
    broken = paths[8]
    broken.write_bytes(broken.read_bytes()[:200])  # the header reads, the pixels are cut off
    for workers in (0, 1):
        batches = image_batches(ImageFiles(tuple(paths), 32), batch_size=4, workers=workers)
        with pytest.raises(DataError, match=r"0008\.jpg") as info:
            list(batches)
        assert "Traceback" not in str(info.value)


def test_default_image_size_keeps_the_builtin_suites_at_32_px():
    default = create_suite(SuiteConfig(suite="digits", num_tasks=2))
    at32 = create_suite(SuiteConfig(suite="digits", num_tasks=2, image_size=32))
    assert default.tasks[0].x_train.shape[1:] == (32, 32, 3)
    assert default.fingerprint == at32.fingerprint


def test_folder_tasks_hold_files_and_default_to_the_backbone_size(small, tmp_path):
    for c in ("a", "b"):
        for split in ("train", "test"):
            _write_images(tmp_path / "d" / "t" / split / c, 3, seed=ord(c))
    task = create_suite(SuiteConfig(suite="folder", path=tmp_path / "d")).tasks[0]
    assert isinstance(task.x_train, ImageFiles) and task.x_train.size is None
    assert small.bind(task.x_train).size == small.image_size == small.bind(task.x_train)[0].shape[0]
    key = task.fingerprint
    # The key follows the bytes: the same files elsewhere give the same fingerprint, an edit another.
    moved = tmp_path / "e"
    (tmp_path / "d").rename(moved)
    same = create_suite(SuiteConfig(suite="folder", path=moved)).tasks[0]
    assert same.fingerprint == key
    first = moved / "t" / "train" / "a" / "0000.png"
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(first)
    assert create_suite(SuiteConfig(suite="folder", path=moved)).tasks[0].fingerprint != key


def test_bf16_changes_features_a_little_and_the_macs_and_fp32_key_not_at_all(small):
    bf16 = create_backbone(SMALL.model_copy(update={"precision": "bf16"}), torch.device("cpu"))
    assert bf16.precision == "bf16" and small.precision == "fp32"
    assert bf16.macs_per_image == small.macs_per_image
    images = np.random.default_rng(1).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    exact, reduced = small.features(images), bf16.features(images)
    assert not np.array_equal(exact, reduced)
    # bf16 keeps 8 bits of mantissa (relative step 2**-8 = 0.4 %); through 18 layers a few % is expected.
    assert np.abs(reduced - exact).mean() < 0.05 * np.abs(exact).mean()
    assert bf16.fingerprint != small.fingerprint
    # fp32's key is the one written before precision existed (an independent hash of the same identity).
    identity = {"name": "resnet18", "weights": small.weights_identity, "image_size": 32,
                "mean": list(small.mean), "std": list(small.std), "resize": "bilinear-antialias",
                "preprocess_version": PREPROCESS_VERSION}
    assert small.fingerprint == hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def test_bias_training_counts_the_same_macs_at_bf16(small):
    from agents.biases import train_head_with_biases
    from agents.config import BBConfig, HeadConfig

    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(2), 6)
    cfgs = HeadConfig(epochs=1, patience=1), BBConfig(enabled=True, epochs=1, batch_size=6)
    macs = {p: train_head_with_biases(small.model, small.preprocess, images, labels, 2, *cfgs, seed=0,
                                      device=torch.device("cpu"), precision=p)[2] for p in ("fp32", "bf16")}
    assert macs["fp32"] == macs["bf16"] > 0


def test_auto_settings_on_a_cpu():
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == "fp32" and resolve_precision("fp16", cpu) == "fp16"
    assert default_workers(cpu, cpus=2) == 1 and default_workers(cpu, cpus=16) == 8
    assert default_workers(torch.device("cuda"), cpus=16) == 15
    auto = create_backbone(SMALL.model_copy(update={"batch_size": "auto"}), cpu)
    assert auto.batch_size == 128 == fill_batch(auto)
