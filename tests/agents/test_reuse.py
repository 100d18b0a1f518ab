"""Knowledge reuse on hand-built features (agents.reuse, agents.head): names and visual matching, the
infinity-normalised start, and a second task whose classes equal the first's stopping earlier."""

import numpy as np
import pytest

from agents.anchors import GMMCAnchor
from agents.class_names import name_similarity, names_can_match
from agents.config import HeadConfig
from agents.head import HeadStart, train_head
from agents.package import SharePackage
from agents.reuse import Match, head_start, match_names, match_visual, shot_indices

D = 32
HEAD = HeadConfig(lr=1e-2, epochs=60, patience=5, batch_size=32)


def blobs(seed: int, n: int = 40, classes: int = 3, spread: float = 1.6) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian classes around fixed centres (the same centres for every seed: the same classes)."""
    centres = np.random.default_rng(123).normal(0, 1, (classes, D)) * 1.5
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), n)
    x = centres[y] + rng.normal(0, spread, (len(y), D))
    return np.abs(x).astype(np.float32), y.astype(np.int64)  # non-negative, like pooled backbone features


def package(task_id: int, classes: tuple[str, ...], weight: np.ndarray, bias: np.ndarray) -> SharePackage:
    anchor = GMMCAnchor(means=np.zeros((1, D), np.float32), variances=np.ones((1, D), np.float32),
                        weights=np.ones(1, np.float32), n_samples=10)
    return SharePackage(task_id=task_id, task_name=f"t{task_id}", classes=classes, head_weight=weight,
                        head_bias=bias, biases=None, anchor=anchor)


def test_name_similarity_is_one_for_equal_names_and_difflib_below():
    assert name_similarity(" Shirt", "shirt") == 1.0
    # difflib ratio = 2 * matches / total length: "shirt" in "t-shirt" matches 5 of 12 characters
    assert name_similarity("shirt", "t-shirt") == pytest.approx(2 * 5 / 12)


def test_names_can_match_needs_a_name_in_two_tasks():
    assert not names_can_match([("a", "b"), ("c", "d")], 1.0)
    assert names_can_match([("a", "b"), ("c", "B")], 1.0)
    assert not names_can_match([("a", "b"), ("a", "c")][:1], 1.0)  # one task alone never matches itself


def test_match_names_takes_the_most_similar_banked_class_and_the_lowest_task_on_ties():
    w = np.eye(3, D, dtype=np.float32)
    bank = {5: package(5, ("cat", "dog", "owl"), w, np.zeros(3, np.float32)),
            2: package(2, ("dog", "emu", "ant"), w, np.zeros(3, np.float32))}
    got = match_names(("dog", "owl", "yak"), bank, 1.0)
    assert got == [Match(0, 2, 0, 1.0), Match(1, 5, 2, 1.0)]  # "dog" in tasks 2 and 5: task 2; yak: none


def test_match_visual_matches_a_class_whose_shots_mostly_land_on_one_banked_class():
    shots = [np.arange(4), np.arange(4, 8)]
    tasks = np.array([3, 3, 3, 1, 3, 1, 2, 0])
    rows = np.array([1, 1, 1, 0, 0, 1, 0, 0])
    # class 0: (3, 1) on 3 of 4 shots; class 1: four different landings, 1 of 4 each
    assert match_visual(shots, (tasks, rows), 0.5) == [Match(0, 3, 1, 0.75)]
    assert match_visual(shots, (tasks, rows), 0.8) == []


def test_shot_indices_take_at_most_shots_of_each_class():
    y = np.array([0, 0, 0, 1, 1, 0, 1])
    picked = shot_indices(y, 2, 2, seed=0)
    assert [len(p) for p in picked] == [2, 2]
    assert all((y[p] == c).all() for c, p in enumerate(picked))


def test_head_start_divides_each_banked_row_and_its_bias_by_the_row_infinity_norm():
    w = np.array([[1.0, -4.0, 2.0], [0.5, 0.25, -0.125]], np.float32)
    b = np.array([2.0, 1.0], np.float32)
    wide = np.zeros((2, D), np.float32)
    wide[:, :3] = w
    bank = {0: package(0, ("a", "b"), wide, b)}
    start = head_start([Match(1, 0, 0, 1.0), Match(0, 0, 1, 1.0)], bank)
    assert start.rows == (1, 0)
    np.testing.assert_allclose(start.weight[:, :3], [[0.25, -1.0, 0.5], [1.0, 0.5, -0.25]])
    np.testing.assert_allclose(start.bias, [0.5, 2.0])


def test_a_head_given_a_start_begins_from_those_rows_and_the_rest_at_random():
    x, y = blobs(1)
    rows = np.random.default_rng(5).normal(0, 1, (2, D)).astype(np.float32)
    rows /= np.abs(rows).max(axis=1, keepdims=True)
    start = HeadStart(rows=(0, 2), weight=rows, bias=np.array([0.1, -0.2], np.float32))
    frozen = HeadConfig(lr=1e-12, epochs=1, patience=1, weight_decay=0.0)  # one step that moves nothing
    head = train_head(x, y, 3, frozen, seed=0, start=start)
    size = 1 / np.sqrt(D)  # a fresh row's infinity norm: PyTorch's init bound
    np.testing.assert_allclose(head.weight[[0, 2]], rows * size, atol=1e-6)
    np.testing.assert_allclose(head.bias[[0, 2]], np.array([0.1, -0.2]) * size, atol=1e-6)
    assert np.abs(head.weight[1]).max() == pytest.approx(size)  # the random row, used inf-normalised
    scratch = train_head(x, y, 3, frozen, seed=0)  # the same random row, used as drawn
    np.testing.assert_allclose(head.weight[1], scratch.weight[1] / np.abs(scratch.weight[1]).max() * size, atol=1e-6)
    assert not np.allclose(head.weight[1], rows[0] * size)


def test_a_plain_start_copies_the_rows_at_a_fresh_rows_size_and_leaves_the_random_rows_as_drawn():
    x, y = blobs(1)
    rows = np.random.default_rng(5).normal(0, 1, (1, D)).astype(np.float32)
    rows /= np.abs(rows).max(axis=1, keepdims=True)
    start = HeadStart(rows=(1,), weight=rows, bias=np.array([0.3], np.float32), normalised=False)
    frozen = HeadConfig(lr=1e-12, epochs=1, patience=1, weight_decay=0.0)
    head = train_head(x, y, 3, frozen, seed=0, start=start)
    scratch = train_head(x, y, 3, frozen, seed=0)
    np.testing.assert_allclose(head.weight[1], rows[0] / np.sqrt(D), atol=1e-6)
    assert head.bias[1] == pytest.approx(0.3 / np.sqrt(D))
    np.testing.assert_allclose(head.weight[[0, 2]], scratch.weight[[0, 2]], atol=1e-6)  # not normalised


def test_a_second_task_with_the_first_tasks_classes_starts_from_its_rows_and_stops_earlier():
    classes = ("ant", "bee", "cow")
    x1, y1 = blobs(1)
    first = train_head(x1, y1, 3, HEAD, seed=0)
    bank = {0: package(0, classes, first.weight, first.bias)}
    matches = match_names(classes, bank, 1.0)
    assert [(m.row, m.task_id, m.banked_row) for m in matches] == [(0, 0, 0), (1, 0, 1), (2, 0, 2)]
    x2, y2 = blobs(2)  # new samples of the same classes
    scratch = train_head(x2, y2, 3, HEAD, seed=3, trace=True)
    reused = train_head(x2, y2, 3, HEAD, seed=3, start=head_start(matches, bank), trace=True)
    assert reused.epochs_run < scratch.epochs_run
    assert reused.macs < scratch.macs
    # after one epoch the reused head already classifies the new samples at least as well
    assert np.nanmean(reused.curve[0]) >= np.nanmean(scratch.curve[0])
    assert len(reused.curve) == reused.epochs_run and len(reused.curve[0]) == 3
