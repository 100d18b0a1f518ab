"""`Task` and `TaskSuite`: the plain data every suite builds and every learner consumes, and the
settings a suite reads (`SuiteSettings`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from agents.errors import DataError
from agents.suites.files import ImageFiles
from agents.suites.lazy import LazyImages, Recipe

# What `tasks.image_size: null` (the default) means for the built-in suites, whose sources are
# small native images (8x8 digits, 28x28 Fashion-MNIST, photo patches): the size they have
# always been built at, so their tasks, features and results are what they were when the
# default was 32. Folder suites keep their files and go to the backbone's size in one step.
BUILTIN_IMAGE_SIZE = 32


class SuiteSettings(Protocol):
    """What a suite's `build` reads of its settings (agents.config.SuiteConfig provides them;
    suites type against this so that they never import the schema that lists them)."""

    suite: str
    num_tasks: int | None
    train_per_class: int | None
    test_per_class: int | None
    path: Path | None
    image_size: int | None
    seed: int


def builtin_size(cfg: SuiteSettings) -> int:
    """The pixel size a built-in suite makes its images at: cfg.image_size, else BUILTIN_IMAGE_SIZE."""
    return BUILTIN_IMAGE_SIZE if cfg.image_size is None else cfg.image_size


def _hash_array(h: "hashlib._Hash", a: np.ndarray) -> None:
    # Shape and dtype go in too, so that arrays with the same bytes but another layout differ.
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(np.ascontiguousarray(a).data)


class _Images:
    """A Task's image field: holds an array, `ImageFiles` or `LazyImages`; reading it gives the array
    or the files, drawing lazy images then (`Task.images` gives what is held, undrawn)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, task: "Task | None", owner: type | None = None) -> np.ndarray | ImageFiles:
        if task is None:
            raise AttributeError(self.name)  # no class-level default for the dataclass
        held = task.__dict__[self.name]
        return held.load() if isinstance(held, LazyImages) else held

    def __set__(self, task: "Task", value: np.ndarray | ImageFiles | LazyImages) -> None:
        task.__dict__[self.name] = value


HeldImages = np.ndarray | ImageFiles | LazyImages


@dataclass(frozen=True, eq=False)
class Task:
    """One classification task: RGB uint8 images [N, H, W, 3] and int64 labels in 0..c-1.

    Images are an in-memory array, `ImageFiles` (references decoded when read: folder) or
    `LazyImages` (a recipe drawn again when read: the built-in suites, `from_recipe`). Arrays are
    made read-only on construction so the cached `fingerprint` never goes stale.
    """

    id: int
    name: str
    classes: tuple[str, ...]
    x_train: np.ndarray | ImageFiles = _Images()  # no default: _Images has none at class level
    y_train: np.ndarray
    x_test: np.ndarray | ImageFiles = _Images()
    y_test: np.ndarray

    def __post_init__(self) -> None:
        c = len(self.classes)
        if c < 2:
            raise DataError(f"task {self.name!r} has {c} class(es) {self.classes}; a task needs at least 2")
        if len(set(self.classes)) != c:
            raise DataError(f"task {self.name!r} repeats a class name in {self.classes}; names must be unique")
        for split, y in (("train", self.y_train), ("test", self.y_test)):
            x = self.images(split)
            # ImageFiles and LazyImages hold uint8 RGB [N, size, size, 3] by construction; arrays are checked.
            if not isinstance(x, (ImageFiles, LazyImages)) and (
                    not isinstance(x, np.ndarray) or x.dtype != np.uint8
                    or x.ndim != 4 or x.shape[3] != 3 or x.shape[1] != x.shape[2]):
                raise DataError(f"task {self.name!r}: x_{split} is {getattr(x, 'dtype', type(x).__name__)} "
                                f"{getattr(x, 'shape', '')}; expected uint8 [N, S, S, 3] RGB")
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise DataError(
                    f"task {self.name!r}: y_{split} is {y.dtype} {y.shape}; expected int64 [{x.shape[0]}]"
                )
            present = np.unique(y)
            if present.tolist() != list(range(c)):
                raise DataError(
                    f"task {self.name!r}: {split} labels are {present.tolist()}; every class 0..{c - 1} "
                    f"must be present and no other label"
                )
            if isinstance(x, np.ndarray):
                x.flags.writeable = False
            y.flags.writeable = False
        if self.images("train").shape[1:] != self.images("test").shape[1:]:
            raise DataError(
                f"task {self.name!r}: train images {self.images('train').shape[1:]} and test images "
                f"{self.images('test').shape[1:]} differ in size; resize both to the suite's image_size"
            )

    @classmethod
    def from_recipe(cls, id: int, name: str, classes: tuple[str, ...], recipe: Recipe) -> "Task":
        """A task whose images are drawn by `recipe` when read (`LazyImages`), not held. The recipe is
        drawn once now, for the checks, the labels and the fingerprint (the same as an in-memory task
        of those arrays has); the images then go with the next task the slot holds."""
        x_train, y_train, x_test, y_test = recipe.arrays()
        drawn = cls(id, name, classes, x_train, y_train, x_test, y_test)  # checks them all
        task = cls(id, name, classes, LazyImages(recipe, 0, x_train.shape), y_train,
                   LazyImages(recipe, 2, x_test.shape), y_test)
        task.__dict__["fingerprint"] = drawn.fingerprint  # cached_property's own place
        return task

    def images(self, split: str) -> HeldImages:
        """The `split` ("train" or "test") images as held: an array, ImageFiles or LazyImages (undrawn)."""
        return self.__dict__[f"x_{split}"]

    @property
    def num_classes(self) -> int:
        """Number of classes c (labels run 0..c-1)."""
        return len(self.classes)

    @cached_property
    def fingerprint(self) -> str:
        """sha256 hex of name, classes and all arrays: a content key for caches (ignores `id`)."""
        h = hashlib.sha256()
        h.update(self.name.encode())
        h.update("\x00".join(self.classes).encode())
        for a in (self.x_train, self.y_train, self.x_test, self.y_test):
            if isinstance(a, ImageFiles):
                a.hash_into(h)  # reads every file once: the key follows the bytes, not the names
            else:
                _hash_array(h, a)
        return h.hexdigest()


@dataclass(frozen=True, eq=False)
class TaskSuite:
    """An ordered list of tasks with a name; `fingerprint` hashes every task's id and fingerprint."""

    name: str
    tasks: list[Task] = field(default_factory=list)

    @cached_property
    def fingerprint(self) -> str:
        """sha256 hex of the suite name and each task's id and fingerprint, in order."""
        h = hashlib.sha256(self.name.encode())
        for t in self.tasks:
            h.update(f"{t.id}:{t.fingerprint}".encode())
        return h.hexdigest()

    def __len__(self) -> int:
        return len(self.tasks)


def tasks_wanted(num_tasks: int | None, available: int, what: str, fix: str) -> int:
    """How many tasks to build: all `available` by default, else `num_tasks` if there are that many."""
    n = available if num_tasks is None else num_tasks
    if n > available:
        raise DataError(f"num_tasks={n} but {what} has only {available} tasks; {fix}")
    return n
