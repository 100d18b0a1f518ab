"""Vectorised image helpers shared by the suites: resizing, RGB conversion, per-class sampling."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=256)
def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in] weights of a triangle (bilinear) filter widened when shrinking, as PIL does.

    Widening the filter by the shrink factor averages every input pixel into the output (no
    aliasing), so a 512-pixel photo shrunk to 32 looks like PIL's antialiased resize.
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    pos = np.arange(n_in) + 0.5
    w = np.clip(1.0 - np.abs(pos[None, :] - centres[:, None]) / support, 0.0, None)
    w /= w.sum(axis=1, keepdims=True)
    w.flags.writeable = False
    return w.astype(np.float32)


def resize(x: np.ndarray, height: int, width: int | None = None) -> np.ndarray:
    """Resize float images [N, H, W] or [N, H, W, C] to [N, height, width(, C)] (float32)."""
    width = height if width is None else width
    # Contiguous input: matmul on a strided view (e.g. after np.rot90) is ~100x slower.
    x = np.ascontiguousarray(x, dtype=np.float32)
    rows = _resize_matrix(x.shape[1], height)
    cols = _resize_matrix(x.shape[2], width)
    # Two batched matrix products (BLAS) on channel-first views; einsum is ~10x slower here.
    chw = x[..., None] if x.ndim == 3 else x
    out = rows @ np.moveaxis(chw, 3, 1) @ cols.T  # [N, C, height, width]
    out = np.moveaxis(out, 1, 3)
    return np.ascontiguousarray(out[..., 0] if x.ndim == 3 else out)


def to_uint8(x: np.ndarray) -> np.ndarray:
    """Float images in [0, 1] to uint8 in [0, 255], rounded and clipped."""
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def gray_to_rgb(x: np.ndarray) -> np.ndarray:
    """Repeat a grey channel three times: [N, H, W] -> [N, H, W, 3]."""
    return np.repeat(x[..., None], 3, axis=-1)


def pick_per_class(
    labels: np.ndarray, classes: list[int] | tuple[int, ...], n: int | None, rng: np.random.Generator
) -> list[np.ndarray]:
    """For each source class, up to `n` distinct indices with that label (all if None), sorted."""
    picked = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if n is not None and n < len(idx):
            idx = np.sort(rng.choice(idx, size=n, replace=False))
        picked.append(idx)
    return picked


def stack_classes(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-class image arrays into (images, int64 labels 0..c-1)."""
    x = np.concatenate(parts, axis=0)
    y = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(parts)])
    return x, y


def task_rng(seed: int, *key: int) -> np.random.Generator:
    """A generator for one piece of a suite: independent of every other key, same for same seed."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=tuple(key)))
