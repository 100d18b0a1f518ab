"""The distinct suite (default): every task is its own (source, domain) pair, as SKILL-102's tasks
are distinct datasets; class sets overlap across tasks (the same classes of one source under
another domain), and a class has the same name in every task that holds it.

Sources, all real and offline: Fashion-MNIST (Debian's dataset-fashion-mnist, MIT licence),
scikit-learn's handwritten digits (BSD, bundled in its wheel), 20 photos bundled in scikit-image's
wheel (see textures.py; each public domain or CC0, as its skimage.data docstring says) and 23 scripts and symbol sets
rendered from the DejaVu and STIX fonts that matplotlib's wheel ships (glyphs.py; Bitstream Vera
licence and SIL OFL 1.1): 26 sources in all. Tasks are drawn in rounds: each round visits every
source once, in a seeded order, under the source's next unused domain (its domains listed once
each, likely ones first: domains.distinct_domains), with 2..6 of its classes drawn at random. So no
two tasks share a (source, domain) pair, 102 tasks use every source 3 or 4 times, and the first n
tasks are the same whatever num_tasks is. Images come from each task's own seeded generator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache, partial

from agents.suites import digits, fashion_mnist, glyphs, textures
from agents.suites.base import SuiteSettings, Task, TaskSuite, builtin_size, tasks_wanted
from agents.suites.domains import Domain, all_domains, distinct_domains
from agents.suites.images import task_rng
from agents.suites.lazy import Recipe, Slot
from agents.suites.mixed import Source, load_sources
from agents.suites.registry import register_suite

DEFAULT_NUM_TASKS = 102  # SKILL-102
# The same image budget as the mixed suite (2..6 classes, 60 / 20 images per class): ~33k
# images for 102 tasks, so a default run costs what it did.
DEFAULT_TRAIN_PER_CLASS = 60
DEFAULT_TEST_PER_CLASS = 20
MIN_CLASSES, MAX_CLASSES = 2, 6


@dataclass(frozen=True)
class SourceSpec:
    """What the plan needs of a source, known without loading an image."""

    name: str
    kind: str  # "gray" or "rgb", as in mixed.Source
    classes: tuple[str, ...]
    train_per_class: int | None  # fewest train images of one class it holds; None: unlimited


def _digits_train() -> int:
    return min(int(round(digits.TRAIN_FRACTION * n)) for n in digits.CLASS_SIZES)


SPECS: tuple[SourceSpec, ...] = (
    SourceSpec("fmnist", "gray", fashion_mnist.CLASSES, fashion_mnist.OFFICIAL_TRAIN_PER_CLASS),
    SourceSpec("digits", "gray", digits.CLASSES, _digits_train()),
    SourceSpec("textures", "rgb", textures.PHOTOS, None),
    *(SourceSpec(name, "gray", glyphs.classes(name), None) for name in glyphs.SOURCES),
)


@lru_cache(maxsize=2)
def _domain_counts() -> dict[str, int]:
    return {kind: len(all_domains(kind)) for kind in ("gray", "rgb")}


def capacity() -> int:
    """The most tasks the suite can make: every domain of every source once."""
    counts = _domain_counts()
    return sum(counts[s.kind] for s in SPECS)


def plan(seed: int) -> Iterator[tuple[SourceSpec, Domain, tuple[int, ...]]]:
    """Seeded stream of (source, domain, class indices), no (source, domain) pair twice, until
    every pair is used."""
    domains = [distinct_domains(s.kind, task_rng(seed, 2, i)) for i, s in enumerate(SPECS)]
    for r in range(max(len(d) for d in domains)):
        rng = task_rng(seed, 0, r)
        for i in rng.permutation(len(SPECS)):
            if r >= len(domains[i]):
                continue
            spec = SPECS[i]
            k = int(rng.integers(MIN_CLASSES, min(MAX_CLASSES, len(spec.classes)) + 1))
            group = tuple(sorted(rng.choice(len(spec.classes), size=k, replace=False).tolist()))
            yield spec, domains[i][r], group


def _wanted(cfg: SuiteSettings) -> int:
    return tasks_wanted(cfg.num_tasks or DEFAULT_NUM_TASKS, capacity(),
                        f"the distinct suite ({len(SPECS)} sources, each under each of its domains once)",
                        f"use num_tasks <= {capacity()}")


def count(cfg: SuiteSettings) -> int:
    """Tasks `build(cfg)` makes: cfg.num_tasks (default 102); its Fashion-MNIST source must exist."""
    fashion_mnist.check_available(cfg.path)
    return _wanted(cfg)


def sizes(cfg: SuiteSettings) -> tuple[int, int]:
    """(fewest train images of one class, of one task) build(cfg) uses, from the plan alone."""
    asked = cfg.train_per_class or DEFAULT_TRAIN_PER_CLASS
    fewest_class, fewest_task = asked, None
    for _, (spec, _, group) in zip(range(_wanted(cfg)), plan(cfg.seed)):
        per_class = asked if spec.train_per_class is None else min(asked, spec.train_per_class)
        fewest_class = min(fewest_class, per_class)
        fewest_task = per_class * len(group) if fewest_task is None else min(fewest_task, per_class * len(group))
    return fewest_class, fewest_task


def names(cfg: SuiteSettings) -> list[tuple[str, ...]]:
    """Each task's class names, from the plan alone (no image drawn), as build(cfg) names them."""
    return [_classes(spec, group) for _, (spec, _, group) in zip(range(_wanted(cfg)), plan(cfg.seed))]


def _classes(spec: SourceSpec, group: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(spec.classes[c] for c in group)


def _sources(cfg: SuiteSettings) -> dict[str, Source]:
    size = builtin_size(cfg)
    out = load_sources(cfg)  # fmnist, digits, textures, as the mixed suite samples them
    for name in glyphs.SOURCES:
        out[name] = Source(name, glyphs.classes(name), "gray", glyphs.GlyphSampler(name, size))
    return out


@register_suite("distinct", default=True, count=count, sizes=sizes, names=names, description=(
    "default: 102 tasks (or num_tasks), each its own (source, domain) pair over 26 real offline sources "
    "(Fashion-MNIST, digits, photo patches, 23 scripts and symbol sets rendered from bundled fonts); "
    "2-6 classes each, class sets overlapping across domains"))
def build(cfg: SuiteSettings) -> TaskSuite:
    """Build the distinct suite: cfg.num_tasks tasks (default 102), deterministic in cfg.seed."""
    n_tasks = _wanted(cfg)
    sources = _sources(cfg)
    n_train = cfg.train_per_class or DEFAULT_TRAIN_PER_CLASS
    n_test = cfg.test_per_class or DEFAULT_TEST_PER_CLASS
    tasks, slot = [], Slot()
    for t, (spec, domain, group) in zip(range(n_tasks), plan(cfg.seed)):
        recipe = Recipe(partial(sources[spec.name].task_arrays, group, domain, n_train, n_test, cfg.seed, t), slot)
        tasks.append(Task.from_recipe(t, f"{spec.name}/{domain.name}", _classes(spec, group), recipe))
    slot.release()
    return TaskSuite("distinct", tasks)
