"""Measured wall times and where they were measured: host, device, torch threads and when.

A wall time stored in a cache is replayed by later runs (`timing: wall`), so each one carries the
machine it was measured on; `machine_of` gives the part that must match for two times to be
comparable. `clock` is the one clock every measurement reads (tests replace it to pin the mechanism).
"""

from __future__ import annotations

import datetime as _dt
import socket
import time
from typing import Any


def clock() -> float:
    """Seconds of a monotonic clock (time.perf_counter); the clock wall-time measurements read."""
    return time.perf_counter()


def device_label(device: Any) -> str:
    """A device as a readable label: "cpu", or "cuda:0 (<GPU name>)" so different GPUs differ."""
    if device is None:
        return "unknown"
    label = str(device)
    if getattr(device, "type", None) == "cuda":
        import torch  # only a cuda device needs torch, and torch is loaded by then

        try:
            label += f" ({torch.cuda.get_device_name(device)})"
        except (RuntimeError, AssertionError):  # no driver in this process: the bare label
            pass
    return label


def provenance(device: Any) -> dict[str, Any]:
    """Where and when a measurement is taken now: host, device, torch threads, UTC time."""
    import torch  # agents/ depends on torch; imported here so `clock` stays light

    return {
        "host": socket.gethostname(),
        "device": device_label(device),
        "torch_threads": int(torch.get_num_threads()),
        "measured_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def machine_of(record: dict[str, Any]) -> tuple[str, str, int]:
    """The part of a provenance record that makes two wall times comparable (not the time)."""
    return str(record.get("host")), str(record.get("device")), int(record.get("torch_threads", -1))


def is_provenance(record: Any) -> bool:
    """A well-formed provenance record (as `provenance` writes it)."""
    return (isinstance(record, dict) and isinstance(record.get("host"), str) and isinstance(record.get("device"), str)
            and isinstance(record.get("torch_threads"), int) and isinstance(record.get("measured_at"), str))
