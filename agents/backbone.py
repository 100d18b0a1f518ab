"""The frozen feature extractor every agent shares: any timm model, its weights, its preprocessing,
its feature function (the hot path of learning) and its counted cost per image."""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from agents import allocator

allocator.tune()  # glibc malloc settings, before torch allocates for learning (agents/allocator.py)
import timm  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from agents.config import BackboneConfig
from agents.device import AUTOCAST, autocast, best_device
from agents.errors import BackboneError, DataError
from agents.loader import default_workers, image_batches
from agents.macs import count_macs
from agents.suites.files import ImageFiles
from agents.weights import (OFFLINE_MODEL_NAME, file_sha256, load_offline_lite0, offline_weights_identity,
                            check_pretrained_reachable)

# Bump when preprocessing changes in a way that changes features: it invalidates cached features.
PREPROCESS_VERSION = 1
# Images per forward pass of batch_size "auto" on a CPU (throughput is flat beyond it there), the
# bounds of what a GPU gets, and the share of the GPU's free memory its activations may fill.
CPU_BATCH, GPU_BATCH_RANGE, GPU_MEMORY_SHARE = 128, (16, 4096), 0.7
# Seed of "random" weights: fixed so that a random baseline is the same network in every process.
RANDOM_SEED = 0


class Backbone:
    """A frozen timm model with its preprocessing; maps uint8 RGB images to float32 feature vectors.

    `precision` "fp32" computes in float32; "bf16" / "fp16" run the forward under torch.autocast
    (features are returned as float32 either way). `workers` decode image files for `features`.
    """

    def __init__(self, name: str, model: nn.Module, device: torch.device, image_size: int,
                 batch_size: int, weights_identity: str, precision: str = "fp32", workers: int = 0) -> None:
        self.name = name
        self.model = model
        self.device = device
        self.image_size = int(image_size)
        self.batch_size = int(batch_size)
        self.weights_identity = weights_identity
        if precision not in AUTOCAST:
            raise BackboneError(f"precision {precision!r} is not one of {', '.join(AUTOCAST)}")
        self.precision = precision
        self.workers = int(workers)
        data_cfg = timm.data.resolve_model_data_config(model)
        self.mean = tuple(float(v) for v in data_cfg["mean"])
        self.std = tuple(float(v) for v in data_cfg["std"])
        # uint8 -> normalized in one multiply-add per pixel: x * scale + shift,
        # with scale = 1 / (255 std) and shift = -mean / std.
        std_t = torch.tensor(self.std, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        mean_t = torch.tensor(self.mean, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        self._scale = 1.0 / (255.0 * std_t)
        self._shift = -mean_t / std_t
        probe = torch.zeros(1, 3, self.image_size, self.image_size, device=device)
        try:
            with torch.inference_mode():
                out, macs = count_macs(self.model, probe)
        except (RuntimeError, AssertionError, ValueError) as exc:
            raise BackboneError(f"backbone {name!r} cannot run on {self.image_size}x{self.image_size} "
                                f"images ({exc}); choose another image_size") from exc
        if out.ndim != 2:
            raise BackboneError(f"backbone {name!r} returns {tuple(out.shape)}, not pooled [N, D] "
                                f"features; choose a model with a global pooling head")
        self.feature_dim = int(out.shape[1])
        self._macs_per_image = int(macs)

    @property
    def macs_per_image(self) -> int:
        """MACs of one forward pass at image_size, counted once by torch's FLOP counter."""
        return self._macs_per_image

    @functools.cached_property
    def fingerprint(self) -> str:
        """sha256 of everything that determines the features: model, weights and preprocessing."""
        identity = {
            "name": self.name,
            "weights": self.weights_identity,
            "image_size": self.image_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "resize": "bilinear-antialias",
            "preprocess_version": PREPROCESS_VERSION,
        }
        if self.precision != "fp32":  # absent for fp32, so features cached before it existed stay valid
            identity["precision"] = self.precision
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def autocast(self) -> contextlib.AbstractContextManager:
        """The context to run the model in: torch.autocast at bf16 / fp16, nothing at fp32."""
        return autocast(self.device, self.precision)

    def bind(self, images: np.ndarray | ImageFiles) -> np.ndarray | ImageFiles:
        """`images` as this backbone reads them: image files without a size get its image_size."""
        return images.at_size(self.image_size) if isinstance(images, ImageFiles) else images

    def _to_batch(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 NHWC numpy (or a CPU tensor from the loader) -> normalized float NCHW on device at
        image_size (no checks)."""
        if isinstance(images, np.ndarray):
            # torch.from_numpy needs a contiguous, writable array; copy just this batch when it is
            # not (e.g. a read-only memory map), never the whole data set.
            if not (images.flags.c_contiguous and images.flags.writeable):
                images = np.array(images, order="C")
            images = torch.from_numpy(images)
        # Move uint8 (4x fewer bytes than float) and convert on the device.
        x = images.to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float()  # NCHW view of NHWC memory, i.e. channels_last
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            # antialias matters only when shrinking (e.g. 224 photos to 96); it keeps small inputs
            # from aliasing, and is a no-op cost-wise for the usual upscaling of 28x28 / 32x32 data.
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear",
                              align_corners=False, antialias=True)
        return torch.addcmul(self._shift, x, self._scale)

    def preprocess(self, images: np.ndarray) -> torch.Tensor:
        """uint8 [N, H, W, 3] RGB -> float32 [N, 3, S, S] normalized with the model's mean/std."""
        return self._to_batch(_check_images(images))

    def features(self, images: np.ndarray | ImageFiles, out: np.ndarray | None = None) -> np.ndarray:
        """uint8 [N, H, W, 3] RGB (an array, or image files decoded as they are needed) -> float32
        [N, feature_dim] pooled features, batched; written into `out` (e.g. a memory map) if given."""
        images = self.bind(images) if isinstance(images, ImageFiles) else _check_images(images)
        if out is None:
            out = np.empty((len(images), self.feature_dim), dtype=np.float32)
        batches = image_batches(images, self.batch_size, self.workers, pin_memory=self.device.type == "cuda")
        start = 0
        with torch.inference_mode(), self.autocast():
            for chunk in batches:
                feats = self.model(self._to_batch(chunk))
                out[start:start + len(chunk)] = feats.float().cpu().numpy()
                start += len(chunk)
        return out

    def __repr__(self) -> str:
        return (f"Backbone(name={self.name!r}, weights={self.weights_identity!r}, "
                f"image_size={self.image_size}, feature_dim={self.feature_dim}, device={self.device})")


def _check_images(images: np.ndarray) -> np.ndarray:
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4 \
            or images.shape[-1] != 3:
        desc = (f"{type(images).__name__} {getattr(images, 'dtype', '?')} "
                f"{tuple(getattr(images, 'shape', ()))}")
        raise DataError(f"backbone input must be a uint8 numpy array [N, H, W, 3] (RGB), got {desc}")
    return images


def _unknown_name_error(name: str) -> BackboneError:
    close = difflib.get_close_matches(name, timm.list_models(), n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else \
        "; see timm.list_models() for the available names"
    return BackboneError(f"unknown backbone {name!r}{hint}")


def _state_dict_sha256(model: nn.Module) -> str:
    """sha256 over the model's tensors: identifies weights that have no file (random, hub)."""
    digest = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{key}|{flat.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _load_checkpoint(model: nn.Module, path: Path) -> None:
    """Load a state dict from `path` (.pth/.pt via torch.load(weights_only), or .safetensors)."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file becomes one clear error naming it
        raise BackboneError(f"cannot read checkpoint {str(path)!r}: {exc}") from exc
    for wrapper in ("state_dict", "model"):  # common training-script containers
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict):
        raise BackboneError(f"checkpoint {str(path)!r} holds a {type(state).__name__}, not a state dict")
    classifier = str((getattr(model, "pretrained_cfg", None) or {}).get("classifier", "classifier"))
    state = {k.removeprefix("module."): v for k, v in state.items()}
    own = model.state_dict()
    for key, tensor in state.items():
        if key in own and tuple(own[key].shape) != tuple(tensor.shape):
            raise BackboneError(f"checkpoint {str(path)!r} key {key!r} has shape {tuple(tensor.shape)}, "
                                f"the model expects {tuple(own[key].shape)}")
    missing, unexpected = model.load_state_dict(state, strict=False)
    # The classifier is dropped (num_classes=0), so its weights are expected to be left over.
    unexpected = [k for k in unexpected if not k.startswith(classifier + ".")]
    if missing or unexpected:
        raise BackboneError(f"checkpoint {str(path)!r} does not fit this model: missing {missing[:5]}, "
                            f"unexpected {unexpected[:5]} (of {len(missing)}/{len(unexpected)})")


def _create(name: str, image_size: int, pretrained: bool = False) -> nn.Module:
    """timm.create_model with the classifier removed, sized for models whose input size is fixed."""
    kwargs = {}
    pretrained_cfg = timm.models.get_pretrained_cfg(name)
    if pretrained_cfg is not None and pretrained_cfg.fixed_input_size \
            and tuple(pretrained_cfg.input_size[-2:]) != (image_size, image_size):
        kwargs["img_size"] = image_size  # e.g. ViTs: position embeddings are built for one size
    try:
        return timm.create_model(name, pretrained=pretrained, num_classes=0, **kwargs)
    except TypeError as exc:
        raise BackboneError(f"backbone {name!r} accepts only {pretrained_cfg.input_size[-1]}px inputs; "
                            f"set image_size to {pretrained_cfg.input_size[-1]}") from exc


def _build_model(cfg: BackboneConfig) -> tuple[nn.Module, str]:
    """Create the timm model with cfg.weights loaded; return it and the weights' identity string."""
    name, weights, size = cfg.name, cfg.weights, cfg.image_size
    if not timm.is_model(name):
        raise _unknown_name_error(name)
    if weights == "offline":
        if name != OFFLINE_MODEL_NAME:
            raise BackboneError(
                f"weights 'offline' exist only for {OFFLINE_MODEL_NAME!r}, not {name!r}; for {name!r} use "
                f"weights 'pretrained' (needs a network), 'random', or a path to a checkpoint"
            )
        model = _create(name, size)
        load_offline_lite0(model, with_classifier=False)
        return model, offline_weights_identity()
    if weights == "pretrained":
        check_pretrained_reachable(name)
        try:
            model = _create(name, size, pretrained=True)
        except BackboneError:
            raise
        except Exception as exc:  # hub/network errors come in many types; all mean "no weights"
            raise BackboneError(
                f"could not fetch pretrained weights for {name!r} ({type(exc).__name__}: {exc}); "
                f"weights 'pretrained' need a network (or a copy in the Hugging Face cache); "
                f"weights 'offline' (with {OFFLINE_MODEL_NAME!r}) work without one"
            ) from exc
        return model, f"pretrained:sha256:{_state_dict_sha256(model)}"
    if weights == "random":
        # Seed inside a forked RNG so building a backbone never disturbs the caller's random state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_SEED)
            model = _create(name, size)
        return model, f"random:sha256:{_state_dict_sha256(model)}"
    path = Path(weights).expanduser()
    if not path.is_file():
        raise BackboneError(f"weights {weights!r} are neither 'offline', 'pretrained', 'random' nor an "
                            f"existing checkpoint file (no file at {str(path)!r})")
    model = _create(name, size)
    _load_checkpoint(model, path)
    return model, f"file:sha256:{file_sha256(path)}"


def create_backbone(cfg: BackboneConfig, device: torch.device | None = None) -> Backbone:
    """Build the frozen, eval-mode backbone that cfg describes, on `device` (default: best available)."""
    model, identity = _build_model(cfg)
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    device = device if device is not None else best_device("auto")
    model.to(device)
    if device.type in ("cpu", "cuda"):
        # Inputs arrive NHWC; keeping the convolutions channels_last avoids a layout copy per batch
        # (and is the layout a GPU's tensor cores take at bf16 / fp16).
        model.to(memory_format=torch.channels_last)
    precision = resolve_precision(cfg.precision, device)
    workers = cfg.workers if cfg.workers is not None else default_workers(device)
    backbone = Backbone(cfg.name, model, device, cfg.image_size, CPU_BATCH, identity, precision, workers)
    backbone.batch_size = cfg.batch_size if cfg.batch_size != "auto" else fill_batch(backbone)
    return backbone


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" -> fp32 on a CPU (or MPS), bf16 on a GPU that supports it, else fp16; others as given."""
    if precision != "auto":
        return precision
    if device.type != "cuda":
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def fill_batch(backbone: Backbone, probe: int = 16) -> int:
    """The batch that fills a GPU: its free memory share over one probe batch's peak memory per
    image, in multiples of 16 within GPU_BATCH_RANGE; CPU_BATCH on any other device."""
    device = backbone.device
    if device.type != "cuda":
        return CPU_BATCH
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    x = torch.zeros(probe, 3, backbone.image_size, backbone.image_size, device=device)
    with torch.inference_mode(), backbone.autocast():
        backbone.model(x.contiguous(memory_format=torch.channels_last))
    per_image = max(1, (torch.cuda.max_memory_allocated(device) - base) / probe)
    free, _total = torch.cuda.mem_get_info(device)
    low, high = GPU_BATCH_RANGE
    return int(min(high, max(low, (GPU_MEMORY_SHARE * free / per_image) // 16 * 16)))
