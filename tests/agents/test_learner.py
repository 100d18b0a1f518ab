"""learn_task and ResultStore on real data (mixed suite) and the real offline Lite0 backbone, small."""

import dataclasses
import json
import struct

import pytest

from agents.backbone import create_backbone
from agents.config import BackboneConfig, GMMCConfig, HeadConfig, LearnerConfig, MahalanobisConfig, SuiteConfig
from agents.features import FeatureCache
from agents.learner import LearnResult, ResultStore, learn_task
from agents.package import SharePackage
from agents.suites import create_suite

BACKBONE = BackboneConfig(image_size=32)
# Few epochs and components: the point here is the contract, not the accuracy.
CFG = LearnerConfig(backbone=BACKBONE, head=HeadConfig(epochs=15, patience=4), mapper=GMMCConfig(k=4))


@pytest.fixture(scope="module")
def suite():
    return create_suite(SuiteConfig(num_tasks=3, train_per_class=12, test_per_class=4))


@pytest.fixture(scope="module")
def backbone():
    return create_backbone(BACKBONE)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return FeatureCache(tmp_path_factory.mktemp("features"))


@pytest.fixture(scope="module")
def result(suite, backbone, cache):
    return learn_task(suite.tasks[0], backbone, CFG, seed=0, cache=cache)


def test_package_parses_and_describes_the_task(suite, backbone, result):
    task = suite.tasks[0]
    pkg = SharePackage.from_bytes(result.package)
    assert result.task_id == pkg.task_id == task.id
    assert pkg.classes == task.classes and pkg.task_name == task.name
    assert pkg.head_weight.shape == (task.num_classes, backbone.feature_dim)
    assert pkg.biases is None and pkg.anchor.kind == "gmmc"
    assert 0 <= result.metrics["val_accuracy"] <= 1 and result.wall_s > 0


def test_teacher_macs_per_phase_and_student_macs(suite, backbone, result):
    macs = result.teacher_macs
    assert set(macs) == {"features", "head", "anchor"}  # no "bb" when BB is off
    assert macs["features"] == backbone.macs_per_image * len(suite.tasks[0].x_train)
    assert macs["head"] > 0 and macs["anchor"] > 0
    assert result.total_macs == sum(macs.values())
    assert result.student_macs > 0


def test_mahalanobis_student_macs_cover_the_covariance_update(suite, backbone, cache):
    cfg = CFG.model_copy(update={"mapper": MahalanobisConfig()})
    res = learn_task(suite.tasks[1], backbone, cfg, seed=0, cache=cache)
    assert SharePackage.from_bytes(res.package).anchor.kind == "mahalanobis"
    d = backbone.feature_dim
    assert res.student_macs >= d * d  # at least one pass over the D x D scatter / precision


def _canonical(package: bytes) -> tuple[dict, bytes]:
    """(parsed safetensors header, tensor data): equal for equal packages whatever the key order."""
    (size,) = struct.unpack("<Q", package[:8])
    return json.loads(package[8:8 + size]), package[8 + size:]


def test_same_seed_same_content_even_on_a_cold_cache(suite, backbone, result, tmp_path):
    again = learn_task(suite.tasks[0], backbone, CFG, seed=0, cache=FeatureCache(tmp_path))
    assert _canonical(again.package) == _canonical(result.package)
    assert len(again.package) == len(result.package)
    assert again.teacher_macs == result.teacher_macs and again.student_macs == result.student_macs
    other = learn_task(suite.tasks[0], backbone, CFG, seed=1, cache=FeatureCache(tmp_path))
    assert _canonical(other.package)[1] != _canonical(result.package)[1]


def test_same_seed_same_bytes(suite, backbone, result, cache):
    packages = {learn_task(suite.tasks[0], backbone, CFG, seed=0, cache=cache).package for _ in range(4)}
    assert packages == {result.package}


def test_fp16_package_is_smaller(suite, backbone, cache, result):
    half = learn_task(suite.tasks[0], backbone, CFG.model_copy(update={"dtype": "fp16"}), seed=0, cache=cache)
    assert len(half.package) < 0.6 * len(result.package)


def test_result_store_round_trip(tmp_path, suite, backbone, result):
    store = ResultStore(tmp_path)
    task = suite.tasks[0]
    assert store.get(task, backbone, CFG, 0) is None
    store.put(task, backbone, CFG, 0, result)
    back = store.get(task, backbone, CFG, 0)
    assert isinstance(back, LearnResult) and back == result


def test_result_store_key_tracks_everything_that_changes_the_result(suite, backbone):
    store = ResultStore("unused")
    task = suite.tasks[0]
    base = store.key(task, backbone, CFG, 0)
    assert store.key(task, backbone, CFG, 0) == base
    assert store.key(task, backbone, CFG.model_copy(update={"device": "cpu"}), 0) == base  # device: no
    assert store.key(task, backbone, CFG, 1) != base
    assert store.key(task, backbone, CFG.model_copy(update={"head": HeadConfig(lr=0.5)}), 0) != base
    assert store.key(task, backbone, CFG.model_copy(update={"mapper": MahalanobisConfig()}), 0) != base
    assert store.key(task, backbone, CFG.model_copy(update={"dtype": "fp16"}), 0) != base
    assert store.key(suite.tasks[1], backbone, CFG, 0) != base
    # Same data under another id: the package would carry the wrong id, so the key must differ.
    assert store.key(dataclasses.replace(task, id=7), backbone, CFG, 0) != base
    other = create_backbone(BACKBONE.model_copy(update={"image_size": 40}))
    assert store.key(task, other, CFG, 0) != base


@pytest.mark.parametrize("damage", ["truncate_package", "garbage_json", "json_list", "unknown_field", "no_meta"])
def test_result_store_corrupt_entry_is_a_miss(tmp_path, suite, backbone, result, damage):
    store = ResultStore(tmp_path)
    task = suite.tasks[0]
    store.put(task, backbone, CFG, 0, result)
    key = store.key(task, backbone, CFG, 0)
    meta, pkg = tmp_path / f"{key}.json", tmp_path / f"{key}.pkg"
    if damage == "truncate_package":
        pkg.write_bytes(result.package[:-10])
    elif damage == "garbage_json":
        meta.write_text("{not json")
    elif damage == "json_list":
        meta.write_text("[]")
    elif damage == "unknown_field":
        data = json.loads(meta.read_text())
        meta.write_text(json.dumps({**data, "surprise": 1}))
    else:
        meta.unlink()
    assert store.get(task, backbone, CFG, 0) is None
