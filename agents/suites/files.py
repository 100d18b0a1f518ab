"""`ImageFiles`: a task's images as references to files, decoded and resized only when indexed.

A folder suite holds these instead of pixel arrays, so building SKILL-102 (two million photos)
costs a file listing, and learning reads images a batch at a time (agents.loader streams them
through worker processes). Indexing returns what an in-memory array of the same images would
hold: uint8 RGB [n, size, size, 3], each file decoded and resized in one step by `load_image`.

`size` None means "the backbone's input size": the backbone binds it (`at_size`) before it reads,
so a user's photos go straight from their own resolution to the size the network sees.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from agents.errors import DataError
from agents.suites.lazy import ConcatImages, LazyImages

# Bump when load_image changes the pixels it returns: it is part of every folder task's fingerprint.
DECODE_VERSION = "pil-draft-bilinear-1"
_READ_ERRORS = (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError)


def load_image(path: Path, size: int) -> np.ndarray:
    """One image file as uint8 RGB [size, size, 3], squashed (not cropped) with PIL's antialiased
    bilinear filter; DataError naming the file if it cannot be decoded."""
    try:
        with Image.open(path) as im:
            # JPEG only: let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still leaves at
            # least `size` pixels, so a 4000 px photo is not fully decoded to make a 299 px input.
            im.draft("RGB", (size, size))
            return np.array(im.convert("RGB").resize((size, size), Image.BILINEAR), dtype=np.uint8)
    except _READ_ERRORS as e:
        raise DataError(f"cannot read image {str(path)!r} ({e}); replace or delete the file") from e


def check_header(path: Path) -> None:
    """DataError naming the file unless PIL recognises it as an image (reads the header only)."""
    try:
        with Image.open(path) as im:
            width, height = im.size
    except _READ_ERRORS as e:
        raise DataError(f"cannot read image {str(path)!r} ({e}); replace or delete the file") from e
    if width < 1 or height < 1:
        raise DataError(f"image {str(path)!r} is {width}x{height} pixels; replace or delete the file")


@dataclass(frozen=True, eq=False)
class ImageFiles:
    """Image files read lazily as uint8 RGB [N, size, size, 3]; `size` None until a backbone binds it."""

    paths: tuple[Path, ...]
    size: int | None = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, int | None, int | None, int]:
        """(N, size, size, 3), as the array these files stand for would have."""
        return (len(self.paths), self.size, self.size, 3)

    def at_size(self, size: int) -> ImageFiles:
        """These files read at `size` when no size was set (a set size is kept: the user chose it)."""
        return self if self.size is not None else ImageFiles(self.paths, int(size))

    def select(self, index: np.ndarray | list[int]) -> ImageFiles:
        """The files at `index`, still unread."""
        return ImageFiles(tuple(self.paths[int(i)] for i in np.asarray(index)), self.size)

    def __getitem__(self, index: int | slice | np.ndarray | list[int]) -> np.ndarray:
        """Decode the files at `index` (an int, slice or integer array) into one uint8 array."""
        if self.size is None:
            raise DataError("these image files have no size yet; bind one with at_size(backbone.image_size)")
        if isinstance(index, (int, np.integer)):
            return load_image(self.paths[int(index)], self.size)
        picked = self.paths[index] if isinstance(index, slice) else [self.paths[int(i)] for i in np.asarray(index)]
        out = np.empty((len(picked), self.size, self.size, 3), dtype=np.uint8)
        for i, path in enumerate(picked):
            out[i] = load_image(path, self.size)
        return out

    def hash_into(self, h: "hashlib._Hash") -> None:
        """Add the decoding rule, the size and every file's bytes (not its name or place) to `h`."""
        h.update(f"files:{DECODE_VERSION}:{self.size}:{len(self.paths)}".encode())
        for path in self.paths:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            h.update(digest.digest())


def concat_images(parts: list[np.ndarray | ImageFiles | LazyImages]) -> np.ndarray | ImageFiles | ConcatImages:
    """Join image sets of the same kind: arrays into one array, files into one lazy list of files,
    lazy images (and arrays) into a ConcatImages that draws a set only when rows of it are read."""
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate(parts)
    if all(isinstance(p, (np.ndarray, LazyImages)) for p in parts):
        return ConcatImages(tuple(parts))
    if all(isinstance(p, ImageFiles) for p in parts) and len({p.size for p in parts}) == 1:
        return ImageFiles(tuple(path for p in parts for path in p.paths), parts[0].size)
    raise DataError("cannot join in-memory images with image files (or files read at different sizes)")
