"""Lazy arrays for the built-in suites: a task holds the recipe of its images, not the pixels.

A built-in suite draws each task's images from its own seeded generator, so the images can be made
again at any time, byte for byte. `Recipe` is that drawing (a callable returning x_train, y_train,
x_test, y_test) with a one-task `Slot` shared by the suite: making a task's arrays releases those of
the task made before, so however many tasks a suite has, one task's images are held at a time
(plus whatever a caller still uses). `LazyImages` stands for one split's images: its shape is known
without drawing them, and `load()` draws them (or takes them from the slot).

Labels are small and are kept; `agents.suites.base.Task.from_recipe` draws every task once while the
suite is built, to take its labels and its fingerprint, and lets the images go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x_train, y_train, x_test, y_test


@dataclass(eq=False)
class Slot:
    """The arrays of the one task made last (a suite's tasks share one slot)."""

    owner: object = None
    arrays: Arrays | None = None
    made: int = 0  # how many times a recipe drew its arrays (the slot missed)

    def release(self) -> None:
        """Let the held task's arrays go."""
        self.owner, self.arrays = None, None


@dataclass(eq=False)
class Recipe:
    """How to draw one task's arrays again (`make`), and the slot that keeps the last ones drawn."""

    make: Callable[[], list[np.ndarray]]
    slot: Slot = field(default_factory=Slot)

    def arrays(self) -> Arrays:
        """The four arrays, read-only: from the slot if this task was made last, else drawn now."""
        if self.slot.owner is not self or self.slot.arrays is None:
            made = tuple(self.make())
            for a in made:
                a.flags.writeable = False
            self.slot.owner, self.slot.arrays = self, made  # the previous task's arrays go
            self.slot.made += 1
        return self.slot.arrays


@dataclass(frozen=True, eq=False)
class LazyImages:
    """One split's uint8 RGB images [N, S, S, 3] of a recipe (index 0: train, 2: test), drawn on `load`."""

    recipe: Recipe
    index: int
    shape: tuple[int, int, int, int]

    def __len__(self) -> int:
        return self.shape[0]

    def load(self) -> np.ndarray:
        """The images as an array, checked against the shape this task was built with."""
        x = self.recipe.arrays()[self.index]
        if x.shape != self.shape:  # a recipe must redraw what it drew when the suite was built
            raise RuntimeError(f"a task's recipe drew images {x.shape}, not the {self.shape} it was built with")
        return x

    def __getitem__(self, index: int | slice | np.ndarray) -> np.ndarray:
        return self.load()[index]

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        x = self.load()
        return x if dtype is None else x.astype(dtype)


@dataclass(frozen=True, eq=False)
class ConcatImages:
    """Image sets joined without drawing them: indexing gathers the rows from each set it falls in."""

    parts: tuple[np.ndarray | LazyImages, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", np.cumsum([0] + [len(p) for p in self.parts]))

    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def shape(self) -> tuple[int, ...]:
        """(N, S, S, 3) of all sets together."""
        return (len(self),) + tuple(self.parts[0].shape[1:])

    def __getitem__(self, index: np.ndarray | list[int]) -> np.ndarray:
        """The images at integer positions `index`, in that order; each set drawn once at most."""
        rows = np.asarray(index, dtype=np.int64)
        out = np.empty((len(rows),) + self.shape[1:], dtype=np.uint8)
        which = np.searchsorted(self._starts, rows, side="right") - 1
        for part in np.unique(which):
            picked = np.flatnonzero(which == part)
            out[picked] = np.asarray(self.parts[part])[rows[picked] - self._starts[part]]
        return out
