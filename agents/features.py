"""On-disk cache of backbone features: computing features is the expensive part of learning a task,
and it depends only on the backbone and the images, so it is done once per (backbone, data) pair.

Files are plain `.npy` (loaded with allow_pickle=False, never pickle), named by
sha256(backbone.fingerprint + data_key), written to a temporary file and renamed into place so an
interrupted run never leaves a half-written file. The cache changes wall time only: callers charge
feature MACs whether or not it hits. Features of image files (folder suites) are written batch by
batch into a memory-mapped temporary .npy as the loader streams the images, then renamed into place.

Beside each `.npy` a `.json` records how long the extraction took and where (agents.timing), so a
later run that finds the features cached still charges the time they took to compute
(`timing: wall`). The record is sealed (agents.cache.integrity) with the sha256 of the `.npy` and of
the key: every read checks both, and an entry that fails (flipped bytes, an edited record, a file of
the wrong shape) is reported by name, deleted and extracted again. Features without a record
(written before records or seals existed) are extracted again quietly.
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
from agents.atomic import file_sha256, host_tag, write_atomic
from agents.cache import integrity
from agents.suites.files import ImageFiles
from agents.suites.lazy import LazyImages

if TYPE_CHECKING:  # only for type hints: the cache needs nothing of torch itself
    from agents.backbone import Backbone

ENV_VAR = "SKILL_SIM_CACHE"


def default_cache_root() -> Path:
    """$SKILL_SIM_CACHE if set, else ~/.cache/skill-sim."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "skill-sim"


class FeatureCache:
    """Features of (backbone, data) pairs as .npy files under `root/features/`; counts hits and misses.

    `report` receives a message naming each bad entry found and discarded (default: a CacheWarning).
    """

    KIND = "features"

    def __init__(self, root: Path | None = None, report: integrity.Report | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_root()
        self.report = report or integrity.warn
        self.hits = 0
        self.misses = 0
        self.discarded = 0

    @staticmethod
    def key(backbone: Backbone, data_key: str) -> str:
        """The inputs an entry is stored for: the backbone's fingerprint and the data's key."""
        return f"{backbone.fingerprint}\n{data_key}"

    def path_for(self, backbone: Backbone, data_key: str) -> Path:
        """File that holds (or will hold) the features of `data_key` under `backbone`."""
        digest = hashlib.sha256(self.key(backbone, data_key).encode()).hexdigest()
        return self.root / "features" / f"{digest}.npy"

    def lookup(self, backbone: Backbone, images: np.ndarray | ImageFiles | LazyImages,
               data_key: str) -> tuple[np.ndarray, bool]:
        """Return (features, hit): cached features if a sound entry exists, else computed and stored."""
        features, hit, _ = self.lookup_timed(backbone, images, data_key)
        return features, hit

    def lookup_timed(self, backbone: Backbone, images: np.ndarray | ImageFiles | LazyImages,
                     data_key: str) -> tuple[np.ndarray, bool, dict[str, Any]]:
        """Return (features, hit, extraction): `extraction` is {"wall_s", host, device, torch_threads,
        measured_at} of the computation that produced the features, now or when they were cached.
        Lazy images (agents.suites.lazy) are drawn only on a miss."""
        path, key = self.path_for(backbone, data_key), self.key(backbone, data_key)
        found = self._read(path, key, expected=(len(images), backbone.feature_dim))
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        if isinstance(images, LazyImages):
            images = images.load()
        start = timing.clock()
        if isinstance(images, ImageFiles):  # streamed: batches go straight into the file
            features = self._extract_into(path, backbone, images)
        else:
            features = backbone.features(images)
        record = {"wall_s": float(timing.clock() - start), **timing.provenance(getattr(backbone, "device", None))}
        if isinstance(images, ImageFiles):  # already in place: seal what the loader wrote
            sealed = integrity.seal(record, kind=self.KIND, key=key, content_sha256=file_sha256(path),
                                    content_bytes=path.stat().st_size)
        else:
            data = self._encode(features)
            write_atomic(path, data)  # content first, the sealed record last: the record completes the entry
            sealed = integrity.seal_bytes(record, kind=self.KIND, key=key, content=data)
        write_atomic(path.with_suffix(".json"), json.dumps(sealed).encode())
        return features, False, record

    def get(self, backbone: Backbone, images: np.ndarray | ImageFiles | LazyImages, data_key: str) -> np.ndarray:
        """Features of `images` under `backbone`, from the cache when present (see `lookup` for hit)."""
        return self.lookup(backbone, images, data_key)[0]

    def _read(self, path: Path, key: str, expected: tuple[int, int]) -> tuple[np.ndarray, bool, dict] | None:
        """The cached (features, True, record) when the entry is sound; None when absent or stale, and
        None after discarding (and reporting) an entry that fails its check."""
        sidecar = path.with_suffix(".json")
        record = integrity.read_record(sidecar)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = None
        if data is None or record is None:
            if data is None and record is not None:  # a record whose features are gone
                self._discard(path, "its .npy file is missing")
            return None  # absent, or features from before extraction records: extract them again
        if isinstance(record, integrity.Unreadable):
            return self._discard(path, f"its record {sidecar.name} is {record.why}")
        verdict = integrity.check_bytes(record, kind=self.KIND, key=key, content=data)
        if verdict.state == "unsealed":
            return None
        if not verdict.sound:
            return self._discard(path, verdict.reason)
        array, why = _decode(data, expected)
        if array is None:
            return self._discard(path, why)
        extraction = {k: v for k, v in record.items() if k != integrity.FIELD}
        if not _is_extraction(extraction):
            return self._discard(path, "its extraction record lacks a valid wall_s or provenance")
        return array, True, extraction

    def _discard(self, path: Path, reason: str) -> None:
        self.discarded += 1
        integrity.discard([path, path.with_suffix(".json")], reason, self.report)
        return None

    @staticmethod
    def _extract_into(path: Path, backbone: Backbone, images: ImageFiles) -> np.ndarray:
        """Features of image files written batch by batch into a memory-mapped .npy beside `path`,
        flushed and renamed into place (atomic, as write_atomic); returns them in memory."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{host_tag()}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
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
    def _encode(features: np.ndarray) -> bytes:
        """The .npy bytes of the features as float32, without pickle."""
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(features, dtype=np.float32), allow_pickle=False)
        return buffer.getvalue()


def _decode(data: bytes, expected: tuple[int, int]) -> tuple[np.ndarray | None, str]:
    """The float32 array of the expected shape held in .npy bytes, or (None, why not)."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None, "its .npy file does not load"
    if array.dtype != np.float32 or array.shape != expected:
        return None, f"it holds {array.dtype} {array.shape}, expected float32 {expected}"
    return array, ""


def _is_extraction(record: dict[str, Any]) -> bool:
    """A well-formed extraction record: a finite, non-negative wall_s and a provenance."""
    wall = record.get("wall_s")
    return (isinstance(wall, (int, float)) and not isinstance(wall, bool) and math.isfinite(wall) and wall >= 0
            and timing.is_provenance(record))
