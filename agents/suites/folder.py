"""Tasks from a folder of images: <path>/<task>/{train,test}/<class>/<image files>.

Tasks are ordered by folder name and classes by sub-folder name (the same class order in both
splits). A task holds references to its files (`ImageFiles`), not pixels: images are decoded and
resized when learning reads them, a batch at a time (agents.loader), so memory does not grow with
the data set. By default (`tasks.image_size: null`) each file goes from its own resolution to the
backbone's input size in one resize; a set image_size squashes files to it first (the backbone
then resizes again). A cap on images per class keeps a seeded sample; otherwise every image is used.

Bad input is found while building, before any learning: every image file's header is read, and a
file that is not an image is refused with its name. Files without an image suffix (notes,
Thumbs.db, ...) are skipped; `skipped_files` lists them for the checks to count in a warning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agents.errors import DataError
from agents.suites.base import SuiteSettings, Task, TaskSuite, tasks_wanted
from agents.suites.files import ImageFiles, check_header, load_image
from agents.suites.images import task_rng
from agents.suites.registry import register_suite

__all__ = ["IMAGE_SUFFIXES", "build", "count", "load_image", "sizes", "skipped_files"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
_LAYOUT = "<path>/<task>/train/<class>/*.png and <path>/<task>/test/<class>/*.png"
# Training images a class needs: one to fit the head on and one for its validation split.
MIN_TRAIN_PER_CLASS = 2


def _subdirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _is_image(p: Path) -> bool:
    return p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if _is_image(p))


def _class_files(split_dir: Path, split: str) -> dict[str, list[Path]]:
    classes = _subdirs(split_dir)
    if len(classes) < 2:
        raise DataError(
            f"{str(split_dir)!r} has {len(classes)} class folder(s); a task needs at least 2 "
            f"(layout: {_LAYOUT})"
        )
    files = {}
    need = MIN_TRAIN_PER_CLASS if split == "train" else 1
    for c in classes:
        imgs = _images(c)
        if not imgs:
            raise DataError(
                f"class folder {str(c)!r} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                f"add images or remove the folder from both train/ and test/"
            )
        if len(imgs) < need:
            raise DataError(
                f"class folder {str(c)!r} holds {len(imgs)} image(s); a train class needs at least {need} "
                f"(one to fit the head, one to validate it); add images or remove the class from both splits"
            )
        files[c.name] = imgs
    return files


def _pick_split(files: dict[str, list[Path]], cap: int | None, size: int | None,
                rng: np.random.Generator) -> tuple[ImageFiles, np.ndarray]:
    """The files of one split (a seeded sample of `cap` per class) and their labels, headers checked."""
    paths: list[Path] = []
    labels = []
    for label, class_paths in enumerate(files.values()):
        if cap is not None and cap < len(class_paths):
            class_paths = [class_paths[i] for i in np.sort(rng.choice(len(class_paths), size=cap, replace=False))]
        for path in class_paths:
            check_header(path)
        paths += class_paths
        labels.append(np.full(len(class_paths), label, dtype=np.int64))
    return ImageFiles(tuple(paths), size), np.concatenate(labels)


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


def sizes(cfg: SuiteSettings) -> tuple[int, int]:
    """(fewest train images of one class, of one task) build(cfg) uses, from the file listings alone
    (no image read): each class's image files, capped at cfg.train_per_class."""
    fewest_class = fewest_task = None
    for tdir in _task_dirs(cfg):
        if not (tdir / "train").is_dir():
            raise DataError(f"task folder {str(tdir)!r} has no train/ folder; expected {_LAYOUT}")
        counts = [len(paths) for paths in _class_files(tdir / "train", "train").values()]
        if cfg.train_per_class is not None:
            counts = [min(n, cfg.train_per_class) for n in counts]
        fewest_class = min(counts) if fewest_class is None else min(fewest_class, min(counts))
        fewest_task = sum(counts) if fewest_task is None else min(fewest_task, sum(counts))
    return fewest_class, fewest_task


def skipped_files(cfg: SuiteSettings) -> list[Path]:
    """Files in the class folders `build(cfg)` reads that are not images by suffix (and are skipped)."""
    skipped = []
    for tdir in _task_dirs(cfg):
        for split in ("train", "test"):
            if (tdir / split).is_dir():
                for c in _subdirs(tdir / split):
                    skipped += sorted(p for p in c.iterdir()
                                       if p.is_file() and not p.name.startswith(".") and not _is_image(p))
    return skipped


@register_suite("folder", "your images: <path>/<task>/{train,test}/<class>/*.png, one task per folder", count=count,
                sizes=sizes)
def build(cfg: SuiteSettings) -> TaskSuite:
    """Build one task per sub-folder of cfg.path (the first cfg.num_tasks, by name), as file lists."""
    root = Path(cfg.path or "")
    task_dirs = _task_dirs(cfg)
    tasks = []
    for t, tdir in enumerate(task_dirs):
        splits = {}
        for split in ("train", "test"):
            if not (tdir / split).is_dir():
                raise DataError(f"task folder {str(tdir)!r} has no {split}/ folder; expected {_LAYOUT}")
            splits[split] = _class_files(tdir / split, split)
        if list(splits["train"]) != list(splits["test"]):
            raise DataError(
                f"task {str(tdir)!r}: train classes {sorted(splits['train'])} and test classes "
                f"{sorted(splits['test'])} differ; give both splits the same class folders"
            )
        rng = task_rng(cfg.seed, t)
        x_tr, y_tr = _pick_split(splits["train"], cfg.train_per_class, cfg.image_size, rng)
        x_te, y_te = _pick_split(splits["test"], cfg.test_per_class, cfg.image_size, rng)
        tasks.append(Task(t, tdir.name, tuple(splits["train"]), x_tr, y_tr, x_te, y_te))
    return TaskSuite(f"folder:{root.name}", tasks)
