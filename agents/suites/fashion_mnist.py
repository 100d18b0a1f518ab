"""The real Fashion-MNIST (Zalando, 28x28 grey, 10 classes), read from the standard IDX files.

Split-Fashion-MNIST: 5 tasks of 2 classes in the official class order, the usual continual-learning
split; train images come from the official train split, test images from the official test split.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from agents.errors import DataError
from agents.suites.base import SuiteSettings, Task, TaskSuite, builtin_size, tasks_wanted
from agents.suites.images import gray_to_rgb, pick_per_class, resize, stack_classes, task_rng, to_uint8
from agents.suites.lazy import Recipe, Slot
from agents.suites.registry import register_suite

DEFAULT_PATH = Path("/usr/share/datasets/fashion-mnist")
ENV_VAR = "SKILL_FASHION_MNIST"
# Slugs (no "/" or spaces) so they can sit inside task names and file names.
CLASSES = ("t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot")
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# 600 / 100 per class (a tenth of the official splits): enough for a linear head on frozen
# features, small enough that extracting features on a 2-core CPU takes seconds, not minutes.
DEFAULT_TRAIN_PER_CLASS = 600
DEFAULT_TEST_PER_CLASS = 100
OFFICIAL_TRAIN_PER_CLASS = 6000  # the official train split: 60 000 images, 6 000 per class
CLASSES_PER_TASK = 2

_FIX = (
    "install it with `apt-get install -y dataset-fashion-mnist`, or set the suite's `path` "
    f"(or ${ENV_VAR}) to a folder holding the standard IDX files "
    "train-images-idx3-ubyte(.gz), train-labels-idx1-ubyte(.gz), t10k-images-idx3-ubyte(.gz), "
    "t10k-labels-idx1-ubyte(.gz)"
)


def resolve_path(path: Path | str | None) -> Path:
    """The Fashion-MNIST folder: `path`, else $SKILL_FASHION_MNIST, else Debian's package path."""
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_PATH


def _find(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"Fashion-MNIST file {stem}(.gz) not found in {str(folder)!r}; {_FIX}")


def read_idx(path: Path) -> np.ndarray:
    """Parse one IDX file (optionally gzipped) of unsigned bytes into a numpy array."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"cannot read IDX file {str(path)!r}: {e}; re-download it. {_FIX}") from e
    # Header: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions, then
    # one big-endian uint32 per dimension.
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{str(path)!r} is not an unsigned-byte IDX file (header {raw[:4].hex()}); {_FIX}")
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)):
        raise DataError(
            f"{str(path)!r} holds {len(raw) - offset} data bytes but its header says {dims}; "
            f"the file is truncated. {_FIX}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


@lru_cache(maxsize=2)
def _load_cached(folder: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for split, (img_stem, lbl_stem) in _FILES.items():
        x = read_idx(_find(Path(folder), img_stem))
        y = read_idx(_find(Path(folder), lbl_stem)).astype(np.int64)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or not set(np.unique(y)) <= set(range(10)):
            raise DataError(
                f"Fashion-MNIST {split} files in {folder!r} do not match (images {x.shape}, labels "
                f"{y.shape}); {_FIX}"
            )
        x.flags.writeable = False
        y.flags.writeable = False
        out[split] = (x, y)
    return out


def load_fashion_mnist(path: Path | str | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (uint8 [60000, 28, 28], int64 labels), "test": (... [10000, 28, 28], ...)}.

    Decoded once per process and folder (read-only arrays), since every suite build needs them.
    """
    folder = resolve_path(path)
    if not folder.is_dir():
        raise DataError(f"Fashion-MNIST folder {str(folder)!r} does not exist; {_FIX}")
    return _load_cached(str(folder.resolve()))


def check_available(path: Path | str | None) -> None:
    """DataError unless the Fashion-MNIST folder that `path` resolves to holds the four IDX files
    (cheap: their names are looked up, not read)."""
    folder = resolve_path(path)
    if not folder.is_dir():
        raise DataError(f"the Fashion-MNIST folder {str(folder)!r} does not exist; {_FIX}")
    for stems in _FILES.values():
        for stem in stems:
            _find(folder, stem)


def count(cfg: SuiteSettings) -> int:
    """Tasks `build(cfg)` makes: 5 pairs of classes, or the first cfg.num_tasks of them."""
    check_available(cfg.path)
    groups = -(-len(CLASSES) // CLASSES_PER_TASK)
    return tasks_wanted(cfg.num_tasks, groups, f"fashion_mnist ({CLASSES_PER_TASK} classes each)",
                        f"use num_tasks <= {groups} or the 'distinct' suite for more tasks")


def sizes(cfg: SuiteSettings) -> tuple[int, int]:
    """(train images of one class, of one task) build(cfg) uses: train_per_class, at most 6 000."""
    per_class = min(cfg.train_per_class or DEFAULT_TRAIN_PER_CLASS, OFFICIAL_TRAIN_PER_CLASS)
    return per_class, per_class * CLASSES_PER_TASK


@register_suite("fashion_mnist", "Split-Fashion-MNIST: 5 tasks of 2 classes from the real IDX files", count=count,
                sizes=sizes)
def build(cfg: SuiteSettings) -> TaskSuite:
    """Split-Fashion-MNIST: tasks of 2 classes in official order (t-shirt/trouser, pullover/dress, ...)."""
    data = load_fashion_mnist(cfg.path)
    groups = [tuple(range(i, i + CLASSES_PER_TASK)) for i in range(0, len(CLASSES), CLASSES_PER_TASK)]
    n = tasks_wanted(cfg.num_tasks, len(groups), f"fashion_mnist ({CLASSES_PER_TASK} classes each)",
                     f"use num_tasks <= {len(groups)} or the 'distinct' suite for more tasks")
    n_train = cfg.train_per_class or DEFAULT_TRAIN_PER_CLASS
    n_test = cfg.test_per_class or DEFAULT_TEST_PER_CLASS
    tasks, slot = [], Slot()
    for t, group in enumerate(groups[:n]):
        recipe = Recipe(partial(_task_arrays, data, group, n_train, n_test, builtin_size(cfg), cfg.seed, t), slot)
        classes = tuple(CLASSES[c] for c in group)
        tasks.append(Task.from_recipe(t, "fmnist/{" + ",".join(classes) + "}", classes, recipe))
    slot.release()
    return TaskSuite("fashion_mnist", tasks)


def _task_arrays(data: dict, group: tuple[int, ...], n_train: int, n_test: int, size: int, seed: int,
                 t: int) -> list[np.ndarray]:
    """[x_train, y_train, x_test, y_test] of task `t` (classes `group`), from its own generator."""
    rng = task_rng(seed, t)
    split_arrays = []
    for split, per_class in (("train", n_train), ("test", n_test)):
        x, y = data[split]
        parts = [x[idx] for idx in pick_per_class(y, group, per_class, rng)]
        xs, ys = stack_classes(parts)
        split_arrays += [gray_to_rgb(to_uint8(resize(xs / 255.0, size))), ys]
    return split_arrays
