"""scikit-learn's bundled handwritten digits (1797 images, 8x8, 10 classes), upscaled.

The train/test split does not depend on the seed: within each class the first 70% of the images
in file order are train, the rest test. The file is roughly ordered by writer, so this keeps most
writers on one side of the split (a random split would put each writer's near-twins on both).
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from agents.suites.base import SuiteSettings, Task, TaskSuite, builtin_size, tasks_wanted
from agents.suites.images import gray_to_rgb, pick_per_class, resize, stack_classes, task_rng, to_uint8
from agents.suites.lazy import Recipe, Slot
from agents.suites.registry import register_suite

CLASSES = tuple(str(d) for d in range(10))
TRAIN_FRACTION = 0.7
CLASSES_PER_TASK = 2
# Images per digit in scikit-learn's file (np.bincount(load_digits().target)); a test checks them.
CLASS_SIZES = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)


@lru_cache(maxsize=1)
def load_digits_split() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train"|"test": (float32 [N, 8, 8] in [0, 1], int64 labels)}, disjoint, seed-independent."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    train_idx, test_idx = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        k = int(round(TRAIN_FRACTION * len(idx)))
        train_idx.append(idx[:k])
        test_idx.append(idx[k:])
    out = {}
    for split, parts in (("train", train_idx), ("test", test_idx)):
        idx = np.concatenate(parts)
        xs, ys = x[idx], y[idx]
        xs.flags.writeable = False
        ys.flags.writeable = False
        out[split] = (xs, ys)
    return out


def count(cfg: SuiteSettings) -> int:
    """Tasks `build(cfg)` makes: 5 groups of 2 digits, or the first cfg.num_tasks of them."""
    groups = -(-len(CLASSES) // CLASSES_PER_TASK)
    return tasks_wanted(cfg.num_tasks, groups, f"digits ({CLASSES_PER_TASK} classes each)",
                        f"use num_tasks <= {groups} or the 'distinct' suite for more tasks")


def sizes(cfg: SuiteSettings) -> tuple[int, int]:
    """(fewest train images of one digit, of one task) build(cfg) uses: 70% of each digit, capped."""
    per_class = [int(round(TRAIN_FRACTION * n)) for n in CLASS_SIZES]
    if cfg.train_per_class is not None:
        per_class = [min(n, cfg.train_per_class) for n in per_class]
    tasks = [per_class[i : i + CLASSES_PER_TASK] for i in range(0, 10, CLASSES_PER_TASK)][: count(cfg)]
    return min(per_class), min(sum(t) for t in tasks)


@register_suite("digits", "scikit-learn's 8x8 handwritten digits, upscaled: 5 tasks of 2 digits", count=count,
                sizes=sizes)
def build(cfg: SuiteSettings) -> TaskSuite:
    """Split-digits: 5 tasks of 2 digits ({0,1}, {2,3}, ...); all images unless capped per class."""
    data = load_digits_split()
    groups = [tuple(range(i, i + CLASSES_PER_TASK)) for i in range(0, 10, CLASSES_PER_TASK)]
    n = tasks_wanted(cfg.num_tasks, len(groups), f"digits ({CLASSES_PER_TASK} classes each)",
                     f"use num_tasks <= {len(groups)} or the 'distinct' suite for more tasks")
    tasks, slot = [], Slot()
    for t, group in enumerate(groups[:n]):
        recipe = Recipe(partial(_task_arrays, data, group, cfg.train_per_class, cfg.test_per_class,
                                builtin_size(cfg), cfg.seed, t), slot)
        classes = tuple(CLASSES[c] for c in group)
        tasks.append(Task.from_recipe(t, "digits/{" + ",".join(classes) + "}", classes, recipe))
    slot.release()
    return TaskSuite("digits", tasks)


def _task_arrays(data: dict, group: tuple[int, ...], n_train: int | None, n_test: int | None, size: int,
                 seed: int, t: int) -> list[np.ndarray]:
    """[x_train, y_train, x_test, y_test] of task `t` (digits `group`), from its own generator."""
    rng = task_rng(seed, t)
    arrays = []
    for split, per_class in (("train", n_train), ("test", n_test)):
        x, y = data[split]
        xs, ys = stack_classes([x[i] for i in pick_per_class(y, group, per_class, rng)])
        arrays += [gray_to_rgb(to_uint8(resize(xs, size))), ys]
    return arrays
