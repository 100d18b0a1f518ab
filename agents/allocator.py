"""glibc malloc settings for learning: keep the backbone's large activation buffers in the heap.

By default glibc serves every allocation above its mmap threshold (128 KiB, rising to at most
32 MiB) with a fresh mmap and unmaps it on free, and trims the top of the heap past 128 KiB. A
backbone forward allocates and frees buffers of tens to hundreds of MiB per batch, so each batch
maps them, faults every page in again (zeroed by the kernel) and unmaps them: measured on a cold
ring_51, about half of the learning time was system time. `tune()` sets, through mallopt(3):

  M_MMAP_THRESHOLD 1 GiB   buffers below it come from the heap and are reused, not remapped;
  M_TRIM_THRESHOLD 2 GiB-1 free memory at the heap's top is kept up to this (mallopt takes an int);
  M_TOP_PAD        256 MiB each heap growth asks the kernel for this much extra.

These are the values of MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=268435456 (and
MALLOC_TRIM_THRESHOLD_ capped at the int mallopt takes). mallopt is used rather than those variables
because glibc reads the variables once, at process start: they would need the CLI to re-exec itself,
and would miss every other entry point (tests, notebooks, `python -m`, worker processes). mallopt
changes the same parameters at any time and governs every later allocation, so `tune()` runs when
agents.backbone is imported, before torch allocates anything for learning.

The cost: up to 2 GiB of freed memory may stay with the process instead of going back to the OS.
Opt out with SKILL_SIM_MALLOC=default. A MALLOC_*_ variable the user set is respected (that
parameter is left alone). On a C library other than glibc nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
import platform

OPT_OUT_ENV = "SKILL_SIM_MALLOC"  # "default": leave glibc's own settings
# mallopt parameter numbers (malloc.h), the value set, and the variable that would set it at start-up.
SETTINGS = (
    ("M_MMAP_THRESHOLD", -3, 1 << 30, "MALLOC_MMAP_THRESHOLD_"),
    ("M_TRIM_THRESHOLD", -1, (1 << 31) - 1, "MALLOC_TRIM_THRESHOLD_"),
    ("M_TOP_PAD", -2, 256 << 20, "MALLOC_TOP_PAD_"),
)

_applied: dict[str, int] | None = None


def tune() -> dict[str, int]:
    """Apply the settings once per process; return {parameter: value} of those set (empty if none)."""
    global _applied
    if _applied is not None:
        return dict(_applied)
    _applied = {}
    if os.environ.get(OPT_OUT_ENV, "").strip().lower() == "default" or platform.libc_ver()[0] != "glibc":
        return {}
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a static or unusual build without a visible mallopt
        return {}
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    for name, param, value, env in SETTINGS:
        if env in os.environ:  # the user chose this one at start-up: keep theirs
            continue
        if mallopt(param, value) == 1:  # mallopt returns 1 on success, 0 for a value it refuses
            _applied[name] = value
    return dict(_applied)


def applied() -> dict[str, int]:
    """What `tune()` set in this process (empty before it ran, when opted out, or off glibc)."""
    return dict(_applied or {})
