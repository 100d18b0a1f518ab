"""Each suite's registered count (what the checks use before learning) matches what it builds."""

import pytest

from agents.config import SuiteConfig
from agents.suites import create_suite
from agents.suites.registry import count_tasks, suite_names


@pytest.mark.parametrize("settings", [
    {"suite": "digits"}, {"suite": "digits", "num_tasks": 2}, {"suite": "textures"},
    {"suite": "fashion_mnist", "train_per_class": 4, "test_per_class": 2},
    {"suite": "mixed", "num_tasks": 3, "train_per_class": 4, "test_per_class": 2},
    {"suite": "distinct", "num_tasks": 30, "train_per_class": 4, "test_per_class": 2},
])
def test_count_is_the_number_of_tasks_built(settings):
    cfg = SuiteConfig(**settings)
    assert count_tasks(cfg) == len(create_suite(cfg).tasks)


def test_every_registered_suite_can_be_counted():
    from agents.suites.registry import COUNTS

    assert set(COUNTS) == set(suite_names())


@pytest.mark.parametrize("settings", [
    {"suite": "digits"}, {"suite": "digits", "num_tasks": 2, "train_per_class": 100}, {"suite": "textures"},
    {"suite": "fashion_mnist", "train_per_class": 4, "test_per_class": 2},
    {"suite": "distinct", "num_tasks": 30, "train_per_class": 200, "test_per_class": 2},
    {"suite": "distinct", "num_tasks": 12, "train_per_class": 3, "test_per_class": 2},
])
def test_registered_sizes_are_the_train_images_built(settings):
    from agents.suites.registry import train_sizes

    cfg = SuiteConfig(**settings)
    tasks = create_suite(cfg).tasks
    per_class = min(int((t.y_train == c).sum()) for t in tasks for c in range(t.num_classes))
    assert train_sizes(cfg) == (per_class, min(len(t.y_train) for t in tasks))


def test_digits_class_sizes_are_those_of_the_file():
    import numpy as np
    from sklearn.datasets import load_digits

    from agents.suites.digits import CLASS_SIZES

    assert tuple(np.bincount(load_digits().target)) == CLASS_SIZES


def test_a_fashion_mnist_folder_without_its_idx_files_is_refused_cheaply(tmp_path):
    from agents.errors import DataError
    from agents.suites.fashion_mnist import check_available

    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        check_available(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"")
    check_available(tmp_path)  # names only: the files are not read here
