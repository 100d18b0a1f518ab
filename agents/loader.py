"""Batches of images for the backbone: slices of an in-memory array, or image files decoded and
resized by a torch DataLoader's worker processes while the backbone runs on the previous batch.

Streaming keeps peak memory at about (workers x prefetch + 1) batches of decoded images whatever
the data set's size. Batches keep their order, so features come out in the task's image order.
Pinned (page-locked) memory only helps a copy to a GPU, so it is asked for only then.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from agents.errors import DataError
from agents.suites.files import ImageFiles, load_image

# Batches each worker decodes ahead of the backbone (torch's default): enough to hide a slow file.
PREFETCH = 2


def default_workers(device: torch.device, cpus: int | None = None) -> int:
    """Decoding processes beside the forward: half the cores on a CPU (torch's threads take the
    rest), all but one beside a GPU (the GPU needs the decoded images, not the cores)."""
    cpus = cpus if cpus is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                          else os.cpu_count() or 1)
    if device.type == "cuda":
        return max(1, min(16, cpus - 1))
    return max(1, cpus // 2)


class _Decoded(Dataset):
    """Image i of `files` as a uint8 HWC tensor and whether it decoded (a failure is reported by
    the parent, naming the file, instead of a worker's traceback)."""

    def __init__(self, files: ImageFiles) -> None:
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, bool]:
        size = self.files.size
        try:
            return torch.from_numpy(load_image(self.files.paths[i], size)), True
        except DataError:
            return torch.zeros((size, size, 3), dtype=torch.uint8), False


def image_batches(images: np.ndarray | ImageFiles, batch_size: int, workers: int = 0,
                  pin_memory: bool = False) -> Iterator[np.ndarray | torch.Tensor]:
    """uint8 [n, S, S, 3] batches of `images` in order: numpy slices of an array, or torch tensors
    decoded from files by `workers` processes (0: in this process). DataError naming a bad file."""
    if isinstance(images, np.ndarray):
        for start in range(0, len(images), batch_size):
            yield images[start:start + batch_size]
        return
    if images.size is None:
        raise DataError("image files need a size before they are read; bind one with at_size()")
    loader = DataLoader(_Decoded(images), batch_size=batch_size, shuffle=False, num_workers=workers,
                        pin_memory=pin_memory, prefetch_factor=PREFETCH if workers > 0 else None)
    start = 0
    for batch, ok in loader:
        if not bool(ok.all()):
            bad = images.paths[start + int(torch.nonzero(~ok)[0, 0])]
            raise DataError(f"cannot decode image {str(bad)!r} (its header reads, its pixels do not); "
                            f"replace or delete the file and run again: features learned so far are cached")
        start += len(batch)
        yield batch
