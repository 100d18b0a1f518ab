"""Each suite's registered count (what the checks use before learning) matches what it builds."""

import pytest

from agents.config import SuiteConfig
from agents.suites import create_suite
from agents.suites.registry import count_tasks, suite_names


@pytest.mark.parametrize("settings", [
    {"suite": "digits"}, {"suite": "digits", "num_tasks": 2}, {"suite": "textures"},
    {"suite": "fashion_mnist", "train_per_class": 4, "test_per_class": 2},
    {"suite": "mixed", "num_tasks": 3, "train_per_class": 4, "test_per_class": 2},
])
def test_count_is_the_number_of_tasks_built(settings):
    cfg = SuiteConfig(**settings)
    assert count_tasks(cfg) == len(create_suite(cfg).tasks)


def test_every_registered_suite_can_be_counted():
    from agents.suites.registry import COUNTS

    assert set(COUNTS) == set(suite_names())
