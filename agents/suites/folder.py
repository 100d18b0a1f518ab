"""Tasks from a folder of images: <path>/<task>/{train,test}/<class>/<image files>.

Tasks are ordered by folder name and classes by sub-folder name (the same class order in both
splits). Images are opened with PIL, converted to RGB and resized (squashed, not cropped) to
image_size. A cap on images per class keeps a seeded sample; otherwise every image is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from agents.errors import DataError
from agents.suites.base import SuiteSettings, Task, TaskSuite, tasks_wanted
from agents.suites.images import stack_classes, task_rng
from agents.suites.registry import register_suite

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
_LAYOUT = "<path>/<task>/train/<class>/*.png and <path>/<task>/test/<class>/*.png"


def _subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


def load_image(path: Path, size: int) -> np.ndarray:
    """One image file as uint8 RGB [size, size, 3]; DataError naming the file if PIL cannot read it."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DataError(f"cannot read image {str(path)!r} ({e}); replace or delete the file") from e


def _class_files(split_dir: Path) -> dict[str, list[Path]]:
    classes = _subdirs(split_dir)
    if len(classes) < 2:
        raise DataError(
            f"{str(split_dir)!r} has {len(classes)} class folder(s); a task needs at least 2 "
            f"(layout: {_LAYOUT})"
        )
    files = {}
    for c in classes:
        imgs = _images(c)
        if not imgs:
            raise DataError(
                f"class folder {str(c)!r} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                f"add images or remove the folder from both train/ and test/"
            )
        files[c.name] = imgs
    return files


def _load_split(files: dict[str, list[Path]], cap: int | None, size: int, rng: np.random.Generator):
    parts = []
    for paths in files.values():
        if cap is not None and cap < len(paths):
            paths = [paths[i] for i in np.sort(rng.choice(len(paths), size=cap, replace=False))]
        parts.append(np.stack([load_image(p, size) for p in paths]))
    return stack_classes(parts)


def _task_dirs(cfg: SuiteSettings) -> list[Path]:
    """The task folders `build` reads: the first cfg.num_tasks sub-folders of cfg.path, by name."""
    if cfg.path is None:
        raise DataError(f"suite 'folder' needs tasks.path: a folder laid out as {_LAYOUT}")
    root = Path(cfg.path)
    if not root.is_dir():
        raise DataError(f"tasks.path {str(root)!r} does not exist or is not a folder; set it to a folder laid out as {_LAYOUT}")
    task_dirs = _subdirs(root)
    if not task_dirs:
        raise DataError(f"tasks.path {str(root)!r} has no task sub-folders; expected {_LAYOUT}")
    n = tasks_wanted(cfg.num_tasks, len(task_dirs), repr(str(root)), "lower tasks.num_tasks or add task folders")
    return task_dirs[:n]


def count(cfg: SuiteSettings) -> int:
    """Tasks `build(cfg)` makes: one per task folder (listing folders only, reading no image)."""
    return len(_task_dirs(cfg))


@register_suite("folder", "your images: <path>/<task>/{train,test}/<class>/*.png, one task per folder", count=count)
def build(cfg: SuiteSettings) -> TaskSuite:
    """Build one task per sub-folder of cfg.path (the first cfg.num_tasks, by name)."""
    root = Path(cfg.path or "")
    task_dirs = _task_dirs(cfg)
    tasks = []
    for t, tdir in enumerate(task_dirs):
        splits = {}
        for split in ("train", "test"):
            if not (tdir / split).is_dir():
                raise DataError(f"task folder {str(tdir)!r} has no {split}/ folder; expected {_LAYOUT}")
            splits[split] = _class_files(tdir / split)
        if list(splits["train"]) != list(splits["test"]):
            raise DataError(
                f"task {str(tdir)!r}: train classes {sorted(splits['train'])} and test classes "
                f"{sorted(splits['test'])} differ; give both splits the same class folders"
            )
        rng = task_rng(cfg.seed, t)
        x_tr, y_tr = _load_split(splits["train"], cfg.train_per_class, cfg.image_size, rng)
        x_te, y_te = _load_split(splits["test"], cfg.test_per_class, cfg.image_size, rng)
        tasks.append(Task(t, tdir.name, tuple(splits["train"]), x_tr, y_tr, x_te, y_te))
    return TaskSuite(f"folder:{root.name}", tasks)
