"""On-disk cache of backbone features: computing features is the expensive part of learning a task,
and it depends only on the backbone and the images, so it is done once per (backbone, data) pair.

Files are plain `.npy` (loaded with allow_pickle=False, never pickle), named by
sha256(backbone.fingerprint + data_key), written to a temporary file and renamed into place so an
interrupted run never leaves a half-written file. A file that does not load or has the wrong shape is
recomputed. The cache changes wall time only: callers charge feature MACs whether or not it hits.
Features of image files (folder suites) are written batch by batch into a memory-mapped temporary
.npy as the loader streams the images, then renamed into place the same way.

Beside each `.npy` a `.json` records how long the extraction took and where (agents.timing), so a
later run that finds the features cached still charges the time they took to compute
(`timing: wall`); features without that record (written before it existed) are computed again.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from agents import timing
from agents.atomic import write_atomic
from agents.suites.files import ImageFiles

if TYPE_CHECKING:  # only for type hints: the cache needs nothing of torch itself
    from agents.backbone import Backbone

ENV_VAR = "SKILL_SIM_CACHE"


def default_cache_root() -> Path:
    """$SKILL_SIM_CACHE if set, else ~/.cache/skill-sim."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "skill-sim"


class FeatureCache:
    """Features of (backbone, data) pairs as .npy files under `root/features/`; counts hits and misses."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_root()
        self.hits = 0
        self.misses = 0

    def path_for(self, backbone: Backbone, data_key: str) -> Path:
        """File that holds (or will hold) the features of `data_key` under `backbone`."""
        digest = hashlib.sha256(f"{backbone.fingerprint}\n{data_key}".encode()).hexdigest()
        return self.root / "features" / f"{digest}.npy"

    def lookup(self, backbone: Backbone, images: np.ndarray | ImageFiles, data_key: str) -> tuple[np.ndarray, bool]:
        """Return (features, hit): cached features if a valid file exists, else computed and stored."""
        features, hit, _ = self.lookup_timed(backbone, images, data_key)
        return features, hit

    def lookup_timed(self, backbone: Backbone, images: np.ndarray | ImageFiles,
                     data_key: str) -> tuple[np.ndarray, bool, dict[str, Any]]:
        """Return (features, hit, extraction): `extraction` is {"wall_s", host, device, torch_threads,
        measured_at} of the computation that produced the features, now or when they were cached."""
        path = self.path_for(backbone, data_key)
        cached = self._load(path, expected=(len(images), backbone.feature_dim))
        record = self._load_record(path) if cached is not None else None
        if cached is not None and record is not None:
            self.hits += 1
            return cached, True, record
        self.misses += 1
        start = timing.clock()
        if isinstance(images, ImageFiles):  # streamed: batches go straight into the file
            features = self._extract_into(path, backbone, images)
        else:
            features = backbone.features(images)
        record = {"wall_s": float(timing.clock() - start), **timing.provenance(getattr(backbone, "device", None))}
        if not isinstance(images, ImageFiles):
            self._store(path, features)
        write_atomic(path.with_suffix(".json"), json.dumps(record).encode())
        return features, False, record

    def get(self, backbone: Backbone, images: np.ndarray | ImageFiles, data_key: str) -> np.ndarray:
        """Features of `images` under `backbone`, from the cache when present (see `lookup` for hit)."""
        return self.lookup(backbone, images, data_key)[0]

    @staticmethod
    def _load(path: Path, expected: tuple[int, int]) -> np.ndarray | None:
        """The cached array, or None when absent, unreadable, or not float32 of the expected shape."""
        if not path.is_file():
            return None
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):  # truncated or foreign file: recompute over it
            return None
        if array.dtype != np.float32 or array.shape != expected:
            return None
        return array

    @staticmethod
    def _load_record(path: Path) -> dict[str, Any] | None:
        """The extraction record stored beside the features, or None when absent or malformed."""
        try:
            record = json.loads(path.with_suffix(".json").read_text())
        except (OSError, ValueError):
            return None
        wall = record.get("wall_s") if isinstance(record, dict) else None
        if (not isinstance(wall, (int, float)) or isinstance(wall, bool) or not (math.isfinite(wall) and wall >= 0)
                or not timing.is_provenance(record)):
            return None
        return record

    @staticmethod
    def _extract_into(path: Path, backbone: Backbone, images: ImageFiles) -> np.ndarray:
        """Features of image files written batch by batch into a memory-mapped .npy beside `path`,
        flushed and renamed into place (atomic, as `_store`); returns them in memory."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            mapped = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                               shape=(len(images), backbone.feature_dim))
            backbone.features(images, out=mapped)
            mapped.flush()
            features = np.array(mapped)
            del mapped
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return features

    @staticmethod
    def _store(path: Path, features: np.ndarray) -> None:
        """Write atomically with the umask honoured (agents.atomic): a temp file beside it, then os.replace."""
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(features, dtype=np.float32), allow_pickle=False)
        write_atomic(path, buffer.getvalue())
