"""Where learning runs and at what precision: a config string turned into a checked `torch.device`,
and the autocast context of a precision on it."""

from __future__ import annotations

import contextlib
import re

import torch

from agents.errors import LearningError

# Accepted spellings; anything else is a typo worth reporting rather than letting torch guess.
_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def best_device(requested: str = "auto") -> torch.device:
    """Resolve "auto" / "cpu" / "cuda" / "cuda:N" / "mps" to a device that exists on this machine."""
    text = str(requested).strip().lower()
    if not _PATTERN.match(text):
        raise LearningError(
            f"device {requested!r} is not understood; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        )
    if text == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise LearningError("device 'mps' was requested but MPS is not available; use 'auto' or 'cpu'")
        return torch.device("mps")
    if not torch.cuda.is_available():
        raise LearningError(
            f"device {requested!r} was requested but CUDA is not available here; use 'auto' or 'cpu'"
        )
    device = torch.device(text)
    count = torch.cuda.device_count()
    if device.index is not None and device.index >= count:
        raise LearningError(
            f"device {requested!r} does not exist: this machine has {count} CUDA device(s), "
            f"cuda:0..cuda:{count - 1}"
        )
    return device


# Autocast dtype of each precision (None: plain float32, no autocast).
AUTOCAST = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """torch.autocast at bf16 / fp16 on `device`; a no-op context at fp32."""
    if precision not in AUTOCAST:
        raise LearningError(f"precision {precision!r} is not one of {', '.join(AUTOCAST)}")
    dtype = AUTOCAST[precision]
    return contextlib.nullcontext() if dtype is None else torch.autocast(device_type=device.type, dtype=dtype)


def limit_threads(threads: int) -> None:
    """Cap torch's intra-op threads of this process (a study's workers share the machine's cores)."""
    torch.set_num_threads(max(1, int(threads)))
