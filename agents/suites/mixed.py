"""The mixed suite (the default until `distinct`, kept so that older results reproduce): many tasks, each a disjoint class subset of one real offline source
(Fashion-MNIST, scikit-learn digits, scikit-image photo patches) seen under its own visual domain.

Like SKILL-102, tasks differ in content, class count and image statistics, so a task mapper that
routes a test image by its backbone features has real but solvable work. The plan is drawn one
(source, domain) pair at a time: the pair's classes are shuffled and cut into groups of 2..6, one
task per group, so class subsets are disjoint within a pair and no two tasks share (source,
classes, domain). Each task's images come from its own seeded generator, so the first n tasks
are the same whatever num_tasks is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from agents.errors import DataError
from agents.suites import digits, fashion_mnist, textures
from agents.suites.base import SuiteSettings, Task, TaskSuite, builtin_size
from agents.suites.domains import Domain, apply_domain, random_domain
from agents.suites.images import pick_per_class, resize, task_rng, to_uint8
from agents.suites.lazy import Recipe, Slot
from agents.suites.registry import register_suite

# SKILL-102: the paper's main scenario has 102 tasks.
DEFAULT_NUM_TASKS = 102
# Sized for a 2-core CPU: 102 tasks x ~4 classes x 80 images is ~33k images to embed. Larger
# requests are capped by what a source holds: digits has ~125 train / ~54 test images per class.
DEFAULT_TRAIN_PER_CLASS = 60
DEFAULT_TEST_PER_CLASS = 20
MIN_CLASSES, MAX_CLASSES = 2, 6
# Chance that a (source, domain) pair is drawn from each source. Photos have 20 classes (about 5
# tasks per pair) and the others 10 (about 2.5), so these weights give each source a similar
# share of tasks.
SOURCE_WEIGHTS = {"fmnist": 0.4, "digits": 0.4, "textures": 0.2}
# Repeated draws of an already-used (source, domain) pair tolerated in a row before giving up.
MAX_MISSES = 20_000


@dataclass(frozen=True)
class Source:
    """A real offline image source: class names, image kind and a per-class sampler."""

    name: str
    classes: tuple[str, ...]
    kind: str  # "gray" ([N, S, S] alpha-like strokes) or "rgb" ([N, S, S, 3] photo patches)
    # sample(class_index, split, n, rng) -> float32 images in [0, 1] at image_size
    sample: Callable[[int, str, int, np.random.Generator], np.ndarray]

    def task_arrays(self, group: list[int] | tuple[int, ...], domain: Domain, n_train: int, n_test: int,
                    seed: int, t: int) -> list[np.ndarray]:
        """[x_train, y_train, x_test, y_test] of task `t` over classes `group` under `domain`: each
        class sampled, the domain applied, labels 0..len(group)-1 in group order; drawn from the
        task's own generator, so the same arguments draw the same arrays."""
        rng = task_rng(seed, 1, t)
        arrays = []
        for split, per_class in (("train", n_train), ("test", n_test)):
            parts = [self.sample(c, split, per_class, rng) for c in group]
            x = apply_domain(domain, np.concatenate(parts), self.kind, split, rng)
            y = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(parts)])
            arrays += [to_uint8(x), y]
        return arrays


def _array_source(name: str, classes: tuple[str, ...], data: dict, scale: float, size: int) -> Source:
    def sample(c: int, split: str, n: int, rng: np.random.Generator) -> np.ndarray:
        x, y = data[split]
        (idx,) = pick_per_class(y, [c], n, rng)
        return resize(x[idx].astype(np.float32) * scale, size)

    return Source(name, classes, "gray", sample)


def _photo_source(size: int) -> Source:
    def sample(c: int, split: str, n: int, rng: np.random.Generator) -> np.ndarray:
        return textures.sample_patches(textures.PHOTOS[c], split, n, size, rng).astype(np.float32) / 255.0

    return Source("textures", textures.PHOTOS, "rgb", sample)


def load_sources(cfg: SuiteSettings) -> dict[str, Source]:
    """The three sources at cfg.image_size (Fashion-MNIST read from cfg.path or its default)."""
    size = builtin_size(cfg)
    return {
        "fmnist": _array_source(
            "fmnist", fashion_mnist.CLASSES, fashion_mnist.load_fashion_mnist(cfg.path), 1 / 255.0, size
        ),
        "digits": _array_source("digits", digits.CLASSES, digits.load_digits_split(), 1.0, size),
        "textures": _photo_source(size),
    }


def _partition(n_classes: int, rng: np.random.Generator) -> list[list[int]]:
    """Shuffle 0..n-1 and cut it into groups of MIN..MAX classes, leaving no class out."""
    order = rng.permutation(n_classes).tolist()
    groups = []
    while order:
        left = len(order)
        k = int(rng.integers(MIN_CLASSES, min(MAX_CLASSES, left) + 1))
        if left - k == 1:  # a single class cannot make a task: grow or shrink this group by one
            k = k + 1 if k < MAX_CLASSES else k - 1
        groups.append(sorted(order[:k]))
        order = order[k:]
    return groups


def plan(sources: dict[str, Source], seed: int) -> Iterator[tuple[str, Domain, list[int]]]:
    """Endless, seeded stream of (source name, domain, class indices) with no repeated pair."""
    rng = task_rng(seed, 0)
    names = list(SOURCE_WEIGHTS)
    p = np.array([SOURCE_WEIGHTS[n] for n in names])
    used: set[tuple[str, Domain]] = set()
    misses = 0
    while True:
        src = sources[str(rng.choice(names, p=p / p.sum()))]
        domain = random_domain(rng, src.kind)
        if (src.name, domain) in used:
            misses += 1
            if misses > MAX_MISSES:  # about 2,600 pairs (~8,700 tasks) exist
                raise DataError(
                    f"the mixed suite ran out of distinct (source, domain) pairs after {len(used)} "
                    f"pairs; ask for fewer tasks (num_tasks up to about 8000 works)"
                )
            continue
        misses = 0
        used.add((src.name, domain))
        for group in _partition(len(src.classes), rng):
            yield src.name, domain, group


def count(cfg: SuiteSettings) -> int:
    """Tasks `build(cfg)` makes: cfg.num_tasks (default 102); its Fashion-MNIST source must exist."""
    fashion_mnist.check_available(cfg.path)
    return cfg.num_tasks or DEFAULT_NUM_TASKS


@register_suite("mixed", count=count, description=(
    "the default before `distinct`: any number of tasks (102 unless num_tasks), disjoint class subsets of Fashion-MNIST, "
    "digits and photo patches, each under its own domain (tint, inversion, rotation, scale, background)"))
def build(cfg: SuiteSettings) -> TaskSuite:
    """Build the mixed suite: cfg.num_tasks tasks (default 102), deterministic in cfg.seed."""
    sources = load_sources(cfg)
    n_tasks = cfg.num_tasks or DEFAULT_NUM_TASKS
    n_train = cfg.train_per_class or DEFAULT_TRAIN_PER_CLASS
    n_test = cfg.test_per_class or DEFAULT_TEST_PER_CLASS
    tasks, slot = [], Slot()
    for t, (src_name, domain, group) in zip(range(n_tasks), plan(sources, cfg.seed)):
        src = sources[src_name]
        recipe = Recipe(partial(src.task_arrays, group, domain, n_train, n_test, cfg.seed, t), slot)
        classes = tuple(src.classes[c] for c in group)
        tasks.append(Task.from_recipe(t, f"{src_name}/{domain.name}/{{{','.join(classes)}}}", classes, recipe))
    slot.release()
    return TaskSuite("mixed", tasks)
