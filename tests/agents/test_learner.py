"""learn_task and ResultStore on real data (the default suite) and the real offline Lite0 backbone, small."""

import dataclasses
import json
import struct

import pytest

from agents.backbone import create_backbone
from agents.config import BBConfig, BackboneConfig, GMMCConfig, HeadConfig, LearnerConfig, MahalanobisConfig, SuiteConfig
from agents import learner as learner_module
from agents import timing
from agents.cache.integrity import CacheWarning
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
    for bb in ({"layers": "last_half"}, {"skip_redundant": True}, {"patience": 3}):
        assert store.key(task, backbone, CFG.model_copy(update={"bb": BBConfig(**bb)}), 0) != base


def test_keys_of_settings_from_before_presets_and_bb_layers_are_unchanged(suite, backbone):
    """The key hashes the settings as they were dumped before `preset`, `bb.patience`, `bb.layers`,
    `bb.skip_redundant`, `backbone.precision`, `backbone.workers` and `reuse` existed, so caches
    filled then stay valid for the same settings."""
    import hashlib
    import json

    from agents.learner import RESULT_VERSION

    task = suite.tasks[0]
    old = CFG.model_dump(mode="json", exclude={"device": True, "preset": True, "reuse": True,
                                               "backbone": {"precision", "workers"}})
    old["bb"] = {"enabled": CFG.bb.enabled, "lr": CFG.bb.lr, "epochs": CFG.bb.epochs, "batch_size": CFG.bb.batch_size}
    blob = json.dumps([RESULT_VERSION, task.id, task.fingerprint, backbone.fingerprint, old, 0], sort_keys=True)
    assert ResultStore("unused").key(task, backbone, CFG, 0) == hashlib.sha256(blob.encode()).hexdigest()


@pytest.mark.parametrize("damage", ["truncate_package", "garbage_json", "json_list", "unknown_field", "no_meta",
                                    "no_provenance"])
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
    elif damage == "no_provenance":  # written before wall times said where they were measured
        data = json.loads(meta.read_text())
        meta.write_text(json.dumps({k: v for k, v in data.items() if k != "wall_measured"}))
    elif damage == "unknown_field":
        data = json.loads(meta.read_text())
        meta.write_text(json.dumps({**data, "surprise": 1}))
    else:
        meta.unlink()
    if damage == "no_meta":  # the package alone is an unfinished entry: absent, nothing to warn about
        assert store.get(task, backbone, CFG, 0) is None
    else:  # every other damage is a bad entry: named (by its package file) in a warning, then deleted
        with pytest.warns(CacheWarning, match=pkg.name):
            assert store.get(task, backbone, CFG, 0) is None
        assert not meta.exists() and not pkg.exists()


class FakeClock:
    """A clock that moves only when told: `advancing` wraps a function to take `seconds` on it."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def advancing(self, fn, seconds):
        def timed(*args, **kwargs):
            self.now += seconds
            return fn(*args, **kwargs)
        return timed


def test_wall_time_charges_the_stored_extraction_so_a_cached_feature_hit_does_not_shorten_it(
        suite, backbone, tmp_path, monkeypatch):
    """Issue 10 item 14: a second learning with another head lr found the features cached and timed
    only the head (35.8 s -> 17.3 s). On a clock where extracting features takes 10 s and training
    the head 1 s (everything else 0 s), both learnings take 10 + 1 s, the features' 10 s measured once."""
    clock = FakeClock()
    monkeypatch.setattr(timing, "clock", clock)
    monkeypatch.setattr(backbone, "features", clock.advancing(backbone.features, 10.0))
    monkeypatch.setattr(learner_module, "train_head", clock.advancing(learner_module.train_head, 1.0))
    cache = FeatureCache(tmp_path)
    task = suite.tasks[2]
    first = learn_task(task, backbone, CFG, seed=0, cache=cache)
    assert clock.now == 100.0 + 10.0 + 1.0 and (cache.hits, cache.misses) == (0, 1)
    other_lr = CFG.model_copy(update={"head": CFG.head.model_copy(update={"lr": CFG.head.lr * 1.1})})
    second = learn_task(task, backbone, other_lr, seed=0, cache=FeatureCache(tmp_path))  # another run
    assert clock.now == 100.0 + 10.0 + 1.0 + 1.0  # features were not extracted again
    for r in (first, second):
        assert r.wall_by_phase == {"features": 10.0, "head": 1.0, "anchor": 0.0, "package": 0.0}
        assert r.wall_s == 11.0
    # the features' part says where and when it was measured: the same record both times
    assert second.wall_measured["features"] == first.wall_measured["features"]
    assert set(second.wall_measured) == {"features", "learning"}
    assert timing.is_provenance(second.wall_measured["learning"])


def test_stored_wall_times_and_their_provenance_survive_the_result_store(tmp_path, suite, backbone, result):
    store = ResultStore(tmp_path)
    store.put(suite.tasks[0], backbone, CFG, 0, result)
    back = store.get(suite.tasks[0], backbone, CFG, 0)
    assert back.wall_by_phase == result.wall_by_phase and back.wall_measured == result.wall_measured
    assert back.wall_s == pytest.approx(sum(result.wall_by_phase.values()))


def _flip(path, offset):
    """Invert one byte of a file in place: the same size, other content (what a bad disk does)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_same_size_corruption_of_a_package_is_named_discarded_and_relearned_equal_to_clean(
        tmp_path, suite, backbone, result, cache):
    """Issue 14: a package with flipped bytes was used silently (accuracy 65.7 % -> 62.3 %, exit 0)."""
    store = ResultStore(tmp_path)
    task = suite.tasks[0]
    store.put(task, backbone, CFG, 0, result)
    pkg = tmp_path / f"{store.key(task, backbone, CFG, 0)}.pkg"
    size = pkg.stat().st_size
    _flip(pkg, size - 5)  # inside the last tensor's data, past the header: still parses as a package
    assert pkg.stat().st_size == size and SharePackage.from_bytes(pkg.read_bytes())  # a silent lie before seals
    with pytest.warns(CacheWarning, match=rf"{pkg.name} is bad: its content checksum does not match"):
        assert store.get(task, backbone, CFG, 0) is None
    assert not pkg.exists() and store.discarded == 1
    again = learn_task(task, backbone, CFG, seed=0, cache=cache)  # what the runner does on a miss
    store.put(task, backbone, CFG, 0, again)
    back = store.get(task, backbone, CFG, 0)
    same = ("package", "teacher_macs", "student_macs", "metrics", "task_id")  # all but measured wall times
    assert {k: getattr(back, k) for k in same} == {k: getattr(result, k) for k in same}


def test_an_entry_copied_under_another_key_is_refused(tmp_path, suite, backbone, result):
    store = ResultStore(tmp_path)
    store.put(suite.tasks[0], backbone, CFG, 0, result)
    here, there = store.key(suite.tasks[0], backbone, CFG, 0), store.key(suite.tasks[0], backbone, CFG, 1)
    for ext in (".pkg", ".json"):
        (tmp_path / f"{there}{ext}").write_bytes((tmp_path / f"{here}{ext}").read_bytes())
    with pytest.warns(CacheWarning, match="stored for other inputs"):
        assert store.get(suite.tasks[0], backbone, CFG, 1) is None
    assert store.get(suite.tasks[0], backbone, CFG, 0) == result  # the original is untouched


def test_an_entry_from_before_seals_is_relearned_quietly(tmp_path, suite, backbone, result, recwarn):
    store = ResultStore(tmp_path)
    store.put(suite.tasks[0], backbone, CFG, 0, result)
    meta = tmp_path / f"{store.key(suite.tasks[0], backbone, CFG, 0)}.json"
    meta.write_text(json.dumps({k: v for k, v in json.loads(meta.read_text()).items() if k != "integrity"}))
    assert store.get(suite.tasks[0], backbone, CFG, 0) is None
    assert not [w for w in recwarn if issubclass(w.category, CacheWarning)] and store.discarded == 0
