"""Photo patches: one class per photo that scikit-image ships inside its wheel (no download).

Each photo is cut in two by a vertical line at 70% of its width: training patches come only from
the left part and test patches only from the right part, so no test pixel is ever seen in training.
A patch is a random square crop, at one of a few scales, resized to image_size.
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np
from PIL import Image

from agents.errors import DataError
from agents.suites.base import SuiteSettings, Task, TaskSuite, builtin_size, tasks_wanted
from agents.suites.images import stack_classes, task_rng, to_uint8
from agents.suites.lazy import Recipe, Slot
from agents.suites.registry import register_suite

# Photos bundled in the scikit-image package itself (checked offline with scikit-image 0.26);
# the others in skimage.data are fetched with pooch and would need a network. Binary and synthetic
# images (horse, checkerboard, binary_blobs) and tiny ones (microaneurysms, 102 px) are left out;
# `cat` is the same photo as `chelsea`.
PHOTOS = (
    "astronaut", "camera", "chelsea", "coffee", "coins", "rocket", "brick", "grass", "gravel", "moon",
    "page", "text", "clock", "hubble_deep_field", "immunohistochemistry", "retina", "colorwheel",
    "cell", "motorcycle", "logo",
)
TRAIN_FRACTION = 0.7
# Crop side as a fraction of the photo's shorter side. At most 0.25 so that a crop always fits in
# the 30%-wide test part; at least 0.1 so that a patch still shows the photo's own texture.
CROP_FRACTIONS = (0.1, 0.15, 0.2, 0.25)
CLASSES_PER_TASK = 4
# Patches are free to make; 80 / 20 per class match the other small suites.
DEFAULT_TRAIN_PER_CLASS = 80
DEFAULT_TEST_PER_CLASS = 20


def load_photo(name: str) -> np.ndarray:
    """A bundled scikit-image photo as uint8 RGB [H, W, 3]."""
    if name not in PHOTOS:
        raise DataError(f"unknown photo {name!r}; choose one of {', '.join(PHOTOS)}")
    import skimage.data

    try:
        img = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    except Exception as e:  # a missing data file surfaces as several exception types
        raise DataError(
            f"scikit-image photo {name!r} cannot be loaded ({type(e).__name__}: {e}); reinstall "
            f"scikit-image (`pip install --force-reinstall scikit-image`), which ships it"
        ) from e
    img = np.asarray(img, dtype=np.float32) / 255.0
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.shape[-1] == 4:  # RGBA (logo): composite over white
        img = img[..., :3] * img[..., 3:] + (1.0 - img[..., 3:])
    return to_uint8(img)


@lru_cache(maxsize=len(PHOTOS) + 4)
def _pyramid(name: str, image_size: int) -> dict[str, tuple[np.ndarray, ...]]:
    """For each split, the photo's part rescaled once per crop fraction (uint8, read-only).

    A crop of image_size pixels from level f then covers f x the photo's shorter side, so a patch
    is a slice, with no per-patch resize; that is what makes 100 tasks build in seconds.
    """
    img = load_photo(name)
    h, w = img.shape[:2]
    cut = int(TRAIN_FRACTION * w)
    parts = {"train": np.ascontiguousarray(img[:, :cut]), "test": np.ascontiguousarray(img[:, cut:])}
    out = {}
    for split, part in parts.items():
        levels = []
        for f in CROP_FRACTIONS:
            s = image_size / (f * min(h, w))
            ph, pw = max(image_size, int(round(part.shape[0] * s))), max(image_size, int(round(part.shape[1] * s)))
            # PIL's bilinear resize widens its filter when shrinking (antialiased) and is fast C;
            # a dense resize matrix on a 1411-pixel photo costs ~0.1 s per level.
            level = np.asarray(Image.fromarray(part).resize((pw, ph), Image.BILINEAR))
            level.flags.writeable = False
            levels.append(level)
        out[split] = tuple(levels)
    return out


def sample_patches(name: str, split: str, n: int, image_size: int, rng: np.random.Generator) -> np.ndarray:
    """`n` random square patches of photo `name` from its `split` part: uint8 [n, S, S, 3]."""
    levels = _pyramid(name, image_size)[split]
    out = np.empty((n, image_size, image_size, 3), dtype=np.uint8)
    which = rng.integers(len(levels), size=n)
    for i, li in enumerate(which):
        lv = levels[li]
        y0 = rng.integers(lv.shape[0] - image_size + 1)
        x0 = rng.integers(lv.shape[1] - image_size + 1)
        out[i] = lv[y0 : y0 + image_size, x0 : x0 + image_size]
    return out


def count(cfg: SuiteSettings) -> int:
    """Tasks `build(cfg)` makes: 5 groups of 4 photos, or the first cfg.num_tasks of them."""
    groups = -(-len(PHOTOS) // CLASSES_PER_TASK)
    return tasks_wanted(cfg.num_tasks, groups, f"textures ({CLASSES_PER_TASK} photos each)",
                        f"use num_tasks <= {groups} or the 'distinct' suite for more tasks")


def sizes(cfg: SuiteSettings) -> tuple[int, int]:
    """(train patches of one photo, of one task) build(cfg) cuts: as many as asked."""
    per_class = cfg.train_per_class or DEFAULT_TRAIN_PER_CLASS
    return per_class, per_class * CLASSES_PER_TASK


@register_suite("textures", "patches of 20 photos bundled with scikit-image: 5 tasks of 4 photos", count=count,
                sizes=sizes)
def build(cfg: SuiteSettings) -> TaskSuite:
    """Photo-patch tasks: the photos in `PHOTOS` order, 4 per task (5 tasks); the seed picks patches."""
    groups = [PHOTOS[i : i + CLASSES_PER_TASK] for i in range(0, len(PHOTOS), CLASSES_PER_TASK)]
    n = tasks_wanted(cfg.num_tasks, len(groups), f"textures ({CLASSES_PER_TASK} photos each)",
                     f"use num_tasks <= {len(groups)} or the 'distinct' suite for more tasks")
    n_train = cfg.train_per_class or DEFAULT_TRAIN_PER_CLASS
    n_test = cfg.test_per_class or DEFAULT_TEST_PER_CLASS
    tasks, slot = [], Slot()
    for t, group in enumerate(groups[:n]):
        recipe = Recipe(partial(_task_arrays, group, n_train, n_test, builtin_size(cfg), cfg.seed, t), slot)
        tasks.append(Task.from_recipe(t, "textures/{" + ",".join(group) + "}", tuple(group), recipe))
    slot.release()
    return TaskSuite("textures", tasks)


def _task_arrays(group: tuple[str, ...], n_train: int, n_test: int, size: int, seed: int, t: int) -> list[np.ndarray]:
    """[x_train, y_train, x_test, y_test] of task `t` (photos `group`), from its own generator."""
    rng = task_rng(seed, t)
    arrays = []
    for split, per_class in (("train", n_train), ("test", n_test)):
        arrays += stack_classes([sample_patches(p, split, per_class, size, rng) for p in group])
    return arrays
