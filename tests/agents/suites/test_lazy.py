"""Lazy built-in tasks (agents.suites.lazy): the recipe redraws the arrays byte for byte, one task's
images are held at a time, building many tasks costs no more memory than building a few, and
learning a lazy task gives what learning the same arrays held in memory gives."""

import gc
import tracemalloc

import numpy as np
import pytest
import torch

from agents.agent import Agent
from agents.backbone import create_backbone
from agents.config import BackboneConfig, GMMCConfig, HeadConfig, LearnerConfig, SuiteConfig
from agents.features import FeatureCache
from agents.learner import eval_features, learn_task, train_features
from agents.suites import Task, TaskSuite, create_suite
from agents.suites.files import concat_images
from agents.suites.lazy import ConcatImages, LazyImages

BUILT_IN = ("distinct", "mixed", "digits", "fashion_mnist", "textures")


def _eager(task: Task) -> Task:
    """The same task with its arrays drawn by its recipe's own function and held in memory."""
    made = task.images("train").recipe.make()
    return Task(task.id, task.name, task.classes, *made)


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_built_in_suite_holds_recipes_that_redraw_the_same_arrays(name, fmnist_path):
    suite = create_suite(SuiteConfig(suite=name, num_tasks=3, train_per_class=9, test_per_class=4))
    for task in suite.tasks:
        assert isinstance(task.images("train"), LazyImages) and isinstance(task.images("test"), LazyImages)
        twin = _eager(task)
        # The fingerprint set at build is the one an in-memory task of the redrawn arrays computes.
        assert task.fingerprint == twin.fingerprint
        np.testing.assert_array_equal(task.x_train, twin.x_train)
        np.testing.assert_array_equal(task.x_test, twin.x_test)
        assert len(task.images("train")) == len(task.y_train) and task.images("test").shape == twin.x_test.shape


def test_one_task_is_drawn_at_a_time_and_reading_it_again_draws_nothing():
    suite = create_suite(SuiteConfig(num_tasks=3, train_per_class=5, test_per_class=2))
    slot = suite.tasks[0].images("train").recipe.slot
    assert slot.arrays is None  # the build lets the last task go
    made = slot.made
    first = suite.tasks[0].x_train
    assert suite.tasks[0].x_test is slot.arrays[2] and suite.tasks[0].x_train is first  # one draw: both splits
    assert slot.made == made + 1
    suite.tasks[1].x_train
    assert slot.owner is suite.tasks[1].images("train").recipe and slot.made == made + 2
    np.testing.assert_array_equal(suite.tasks[0].x_train, first)  # drawn again, the same bytes
    assert slot.made == made + 3
    with pytest.raises(ValueError):
        first[0, 0, 0, 0] = 1  # drawn arrays are read-only, as in-memory tasks' arrays are


def test_concat_images_gathers_rows_across_lazy_sets_as_one_array_would():
    suite = create_suite(SuiteConfig(num_tasks=3, train_per_class=5, test_per_class=3))
    joined = concat_images([t.images("test") for t in suite.tasks])
    assert isinstance(joined, ConcatImages)
    whole = np.concatenate([t.x_test for t in suite.tasks])
    assert joined.shape == whole.shape and len(joined) == len(whole)
    rows = np.array([len(whole) - 1, 0, 7, 3, 8, 8])
    np.testing.assert_array_equal(joined[rows], whole[rows])


def _build_peak(num_tasks: int) -> tuple[int, int, int]:
    """(peak and held traced bytes while and after building `num_tasks` distinct tasks, and the
    bytes their images would take held in memory)."""
    gc.collect()
    tracemalloc.start()
    suite = create_suite(SuiteConfig(num_tasks=num_tasks, train_per_class=60, test_per_class=20))
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    images = sum((len(t.y_train) + len(t.y_test)) * 32 * 32 * 3 for t in suite.tasks)
    return peak, held, images


def test_peak_memory_of_building_a_suite_does_not_grow_with_its_tasks():
    _build_peak(90)  # loads the sources once (Fashion-MNIST, photo pyramids, glyph masters)
    few, _, _ = _build_peak(30)  # every source at least once: the largest single task is in both
    many, held, images = _build_peak(90)
    # Held in memory, 90 tasks' images are ~90 MB, 60 tasks' more than 30 tasks'; drawn one at a
    # time, the peak is one task's drawing (a few MB) whatever the count.
    assert images > 80e6
    assert many < few + images / 6, f"peak {many / 1e6:.1f} MB for 90 tasks vs {few / 1e6:.1f} MB for 30"
    assert held < 5e6, f"{held / 1e6:.1f} MB still held after building 90 lazy tasks"


def test_a_lazy_task_learns_and_evaluates_exactly_as_its_arrays_held_in_memory(tmp_path):
    backbone = create_backbone(BackboneConfig(name="resnet18", weights="random", image_size=32, workers=0),
                               torch.device("cpu"))
    cfg = LearnerConfig(backbone=BackboneConfig(name="resnet18", weights="random", image_size=32),
                        head=HeadConfig(epochs=5), mapper=GMMCConfig(k=2))
    lazy = TaskSuite("distinct", create_suite(SuiteConfig(num_tasks=2, train_per_class=8, test_per_class=3)).tasks)
    eager = TaskSuite("distinct", [_eager(t) for t in lazy.tasks])
    outcomes = []
    for suite, where in ((lazy, "lazy"), (eager, "eager")):
        cache = FeatureCache(tmp_path / where)
        packages = [learn_task(t, backbone, cfg, 7, cache).package for t in suite.tasks]
        feats = [(train_features(t, backbone, cache), eval_features(t, backbone, cache)) for t in suite.tasks]
        agent = Agent(0, backbone, cfg, cache=cache)
        for package in packages:
            agent.receive(package)
        outcomes.append((packages, feats, agent.evaluate(suite)))
    (p_lazy, f_lazy, e_lazy), (p_eager, f_eager, e_eager) = outcomes
    assert p_lazy == p_eager and e_lazy == e_eager
    for (tr_a, te_a), (tr_b, te_b) in zip(f_lazy, f_eager):
        np.testing.assert_array_equal(tr_a, tr_b)
        np.testing.assert_array_equal(te_a, te_b)
