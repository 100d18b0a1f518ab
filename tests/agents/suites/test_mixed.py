"""The mixed suite: 102 tasks, distinct and disjoint, varied class counts, seeded and deterministic."""

from collections import defaultdict

import numpy as np
import pytest

from agents.config import SuiteConfig
from agents.suites import create_suite, mixed


@pytest.fixture(scope="module")
def suite102(fmnist_path):
    return create_suite(SuiteConfig(suite="mixed", num_tasks=102))


def test_mixed_102_tasks(suite102):
    s = suite102
    assert s.name == "mixed" and [t.id for t in s.tasks] == list(range(102))
    assert len({t.name for t in s.tasks}) == 102
    assert len({t.fingerprint for t in s.tasks}) == 102
    counts = {t.num_classes for t in s.tasks}
    assert counts <= set(range(mixed.MIN_CLASSES, mixed.MAX_CLASSES + 1)) and len(counts) >= 3
    assert {t.name.split("/")[0] for t in s.tasks} == {"fmnist", "digits", "textures"}
    for t in s.tasks:
        assert t.x_train.shape[1:] == (32, 32, 3) and t.x_train.dtype == np.uint8
        assert np.bincount(t.y_train).tolist() == [mixed.DEFAULT_TRAIN_PER_CLASS] * t.num_classes
        assert np.bincount(t.y_test).tolist() == [mixed.DEFAULT_TEST_PER_CLASS] * t.num_classes


def test_class_subsets_disjoint_within_source_and_domain(suite102):
    seen = defaultdict(set)
    for t in suite102.tasks:
        source, domain, _ = t.name.split("/", 2)
        assert not seen[(source, domain)] & set(t.classes), t.name
        seen[(source, domain)] |= set(t.classes)


def test_no_test_image_in_train(suite102):
    for t in suite102.tasks[:30]:
        train = {bytes(im) for im in t.x_train}
        assert not any(bytes(im) in train for im in t.x_test), t.name


def test_mixed_deterministic_and_prefix_stable(suite102):
    cfg = SuiteConfig(suite="mixed", num_tasks=8, train_per_class=6, test_per_class=2)
    a, b = create_suite(cfg), create_suite(cfg)
    assert a.fingerprint == b.fingerprint
    assert all(np.array_equal(x.x_train, y.x_train) for x, y in zip(a.tasks, b.tasks))
    assert create_suite(cfg.model_copy(update={"seed": 1})).fingerprint != a.fingerprint
    # The first n tasks do not depend on how many are asked for.
    small = create_suite(SuiteConfig(suite="mixed", num_tasks=5))
    assert [t.fingerprint for t in small.tasks] == [t.fingerprint for t in suite102.tasks[:5]]
