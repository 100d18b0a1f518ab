"""Share packages: what one agent sends another about one task (head, optional BB, task anchor).

Serialized with safetensors (no pickle: a package from a peer can never run code) plus a small
metadata header; `len(to_bytes(dtype))` is exactly what crosses the wire in the simulation.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Literal

import numpy as np
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from agents.anchors import GMMCAnchor, MahalanobisAnchor
from agents.errors import PackageError

FORMAT_NAME = "skill-share-package"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
_DTYPES = {"fp32": np.float32, "fp16": np.float16}
# fp16 cannot hold a variance below its smallest subnormal: it would round to 0 and a receiver's
# log-density would divide by zero, so tiny variances are floored there instead.
_FP16_FLOOR = float(np.finfo(np.float16).smallest_subnormal)
_FP16_MAX = float(np.finfo(np.float16).max)


@dataclass(frozen=True, eq=False)
class SharePackage:
    """One task's head, optional beneficial biases and task anchor, as plain numpy arrays."""

    task_id: int
    task_name: str
    classes: tuple[str, ...]
    head_weight: np.ndarray  # float [c, D]
    head_bias: np.ndarray  # float [c]
    biases: dict[str, np.ndarray] | None
    anchor: GMMCAnchor | MahalanobisAnchor

    def __post_init__(self) -> None:
        c = len(self.classes)
        w, b = np.asarray(self.head_weight), np.asarray(self.head_bias)
        if w.ndim != 2 or w.shape[0] != c or b.shape != (c,):
            raise PackageError(f"head must be weight [{c}, D] and bias [{c}] for {c} classes, got "
                               f"{w.shape} and {b.shape}; pass one head row per class")
        if not isinstance(self.anchor, (GMMCAnchor, MahalanobisAnchor)):
            raise PackageError(f"anchor must be a GMMCAnchor or MahalanobisAnchor, got "
                               f"{type(self.anchor).__name__}")
        _check_anchor(self.anchor, w.shape[1])

    def _tensors(self, dtype: str) -> dict[str, np.ndarray]:
        tensors = {"head.weight": self.head_weight, "head.bias": self.head_bias}
        for name, value in (self.biases or {}).items():
            tensors[f"bb.{name}"] = value
        a = self.anchor
        if isinstance(a, GMMCAnchor):
            tensors.update({"anchor.means": a.means, "anchor.variances": a.variances,
                            "anchor.weights": a.weights})
        else:
            tensors.update({"anchor.class_means": a.class_means, "anchor.exemplar_labels": a.exemplar_labels})
            # Images, when shared, replace the exemplar features: the receiver embeds them itself.
            if a.shares_images:
                tensors["anchor.exemplar_images"] = a.exemplar_images
            else:
                tensors["anchor.exemplars"] = a.exemplars
        out = {}
        target = _DTYPES[dtype]
        for key, value in tensors.items():
            value = np.asarray(value)
            if np.issubdtype(value.dtype, np.floating):  # integer arrays (labels, images) stay integer
                if dtype == "fp16":
                    value = _to_fp16(key, value)
                value = value.astype(target)
            out[key] = np.ascontiguousarray(value)
        return out

    def to_bytes(self, dtype: Literal["fp32", "fp16"] = "fp32") -> bytes:
        """Serialize with safetensors; floats stored as `dtype`, integer arrays kept integer."""
        if dtype not in _DTYPES:
            raise PackageError(f"dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
        metadata = {
            "format": FORMAT_NAME,
            "version": str(FORMAT_VERSION),
            "task_id": str(int(self.task_id)),
            "task_name": self.task_name,
            "classes": json.dumps(list(self.classes)),
            "anchor": self.anchor.kind,
            "dtype": dtype,
            "biases": "none" if self.biases is None else "present",
        }
        if isinstance(self.anchor, GMMCAnchor):
            metadata["n_samples"] = str(int(self.anchor.n_samples))
        elif self.anchor.shares_images:
            metadata["share"] = "images"
        return _canonical(st_save(self._tensors(dtype), metadata=metadata))

    def nbytes(self, dtype: Literal["fp32", "fp16"] = "fp32") -> int:
        """Exact size on the wire: the length of `to_bytes(dtype)`."""
        return len(self.to_bytes(dtype))

    @classmethod
    def from_bytes(cls, data: bytes) -> "SharePackage":
        """Parse a package; raise PackageError for garbage, a foreign format or an unknown version."""
        meta = _read_metadata(data)
        try:
            tensors = st_load(bytes(data))
        except Exception as exc:  # safetensors raises its own error types for corrupt bodies
            raise PackageError(f"share package body is corrupt ({exc}); resend the package") from exc
        tensors = {k: v.astype(np.float32) if np.issubdtype(v.dtype, np.floating) else v
                   for k, v in tensors.items()}
        try:
            task_id = int(meta["task_id"])
            classes = tuple(json.loads(meta["classes"]))
            head_w, head_b = tensors["head.weight"], tensors["head.bias"]
            biases = None
            if meta["biases"] == "present":
                biases = {k[3:]: v for k, v in tensors.items() if k.startswith("bb.")}
            if meta["anchor"] == "gmmc":
                anchor = GMMCAnchor(tensors["anchor.means"], tensors["anchor.variances"],
                                    tensors["anchor.weights"], int(meta["n_samples"]))
            elif meta["anchor"] == "mahalanobis":
                images = meta.get("share") == "images"
                anchor = MahalanobisAnchor(tensors["anchor.class_means"],
                                           None if images else tensors["anchor.exemplars"],
                                           tensors["anchor.exemplar_labels"].astype(np.int64),
                                           tensors["anchor.exemplar_images"] if images else None)
            else:
                raise PackageError(f"unknown anchor kind {meta['anchor']!r}; expected 'gmmc' or "
                                   f"'mahalanobis'")
        except (KeyError, ValueError, TypeError) as exc:
            if isinstance(exc, PackageError):
                raise
            raise PackageError(f"share package is missing or has a malformed field ({exc!r}); "
                               f"it was not written by SharePackage.to_bytes") from exc
        return cls(task_id, meta["task_name"], classes, head_w, head_b, biases, anchor)


def _check_anchor(a: GMMCAnchor | MahalanobisAnchor, d: int) -> None:
    """Refuse an anchor whose arrays disagree in shape: a receiver would crash or misroute on it."""
    if isinstance(a, GMMCAnchor):
        k = len(a.weights)
        shapes = {"means": (a.means.shape, (k, d)), "variances": (a.variances.shape, (k, d)),
                  "weights": (a.weights.shape, (k,))}
    else:
        c, n = len(a.class_means), len(a.exemplar_labels)
        shapes = {"class_means": (a.class_means.shape, (c, d)), "exemplar_labels": (a.exemplar_labels.shape, (n,))}
        if a.exemplars is not None:
            shapes["exemplars"] = (a.exemplars.shape, (n, d))
        if a.shares_images:
            images = np.asarray(a.exemplar_images)
            shapes["exemplar_images"] = (images.shape[:1], (n,))
            if images.ndim not in (3, 4) or images.dtype != np.uint8:
                raise PackageError(f"anchor exemplar_images must be uint8 [n, H, W] or [n, H, W, C] as the "
                                   f"task stores them, got {images.dtype} {images.shape}")
        elif a.exemplars is None:
            raise PackageError("a Mahalanobis anchor needs exemplar features or exemplar images; it has neither")
        if n and (a.exemplar_labels.min() < 0 or a.exemplar_labels.max() >= c):
            raise PackageError(f"exemplar labels span {a.exemplar_labels.min()}..{a.exemplar_labels.max()}"
                               f" but the anchor has {c} class means; labels must lie in 0..{c - 1}")
    for name, (got, want) in shapes.items():
        if tuple(got) != want:
            raise PackageError(f"anchor {name} has shape {tuple(got)}, expected {want} for {d}-D "
                               f"features; build head and anchor from the same backbone and task")


def _to_fp16(key: str, value: np.ndarray) -> np.ndarray:
    big = float(np.abs(value).max()) if value.size else 0.0
    if not big <= _FP16_MAX:
        raise PackageError(f"{key} holds {big:.4g}, beyond fp16's range ({_FP16_MAX:g}); "
                           f"send this package as fp32")
    if key == "anchor.variances":
        value = np.maximum(value, _FP16_FLOOR)
    return value


def _read_metadata(data: bytes) -> dict[str, str]:
    """The safetensors header's __metadata__ (8-byte little-endian length, then JSON), validated."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise PackageError(f"a share package is bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 8:
        raise PackageError(f"share package of {len(data)} bytes is too short to be a package")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise PackageError(f"share package header claims {size} bytes but only {len(data) - 8} "
                           f"follow; the package is truncated or not a package")
    try:
        header = json.loads(data[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"share package header is not valid JSON ({exc}); not a package") from exc
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise PackageError(f"not a share package: format {found!r}, expected {FORMAT_NAME!r}")
    try:
        version = int(meta.get("version", ""))
    except ValueError:
        version = meta.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise PackageError(f"share package version {version!r} is not supported; this build reads "
                           f"versions {list(SUPPORTED_VERSIONS)} (upgrade skill-sim)")
    return meta


def _canonical(blob: bytes) -> bytes:
    """Rewrite the safetensors JSON header with sorted keys, so equal packages are equal bytes.

    safetensors writes its header maps in hash order, which changes from call to call. Sorting
    keeps the same keys and values, so the header length, the data offsets and the size on the
    wire are unchanged; the format pads headers with spaces, which is what we pad with too.
    """
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    if "__metadata__" in header:
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    if len(text) > n:  # cannot happen for a reordering; keep safetensors' own bytes if it ever does
        return blob
    return blob[:8] + text.ljust(n, b" ") + blob[8 + n:]
