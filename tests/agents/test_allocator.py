"""agents.allocator: after tune(), a large buffer comes from the heap (not a fresh mmap) and stays
with the process when freed; opting out or presetting a MALLOC_* variable leaves glibc alone."""

import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc malloc settings")

# In a fresh process: tune (or not), then malloc and free 200 MiB and read glibc's own statistics.
PROBE = textwrap.dedent("""
    import ctypes, json, sys
    from agents import allocator
    applied = allocator.tune()
    libc = ctypes.CDLL(None)
    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
    libc.mallinfo2.restype, libc.malloc.restype = Info, ctypes.c_void_p
    buffer = libc.malloc(200 << 20)
    mapped = libc.mallinfo2().hblkhd          # bytes in mmapped chunks while the buffer is held
    libc.free(ctypes.c_void_p(buffer))
    kept = libc.mallinfo2().arena             # heap bytes the process keeps after freeing it
    print(json.dumps({"applied": applied, "mapped": mapped, "kept": kept}))
""")


def _probe(**env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "SKILL_SIM_MALLOC"}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**base, "PYTHONPATH": str(ROOT), **env},
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_tuned_a_large_buffer_is_served_from_the_heap_and_kept():
    tuned = _probe()
    assert tuned["applied"] == {"M_MMAP_THRESHOLD": 1 << 30, "M_TRIM_THRESHOLD": (1 << 31) - 1,
                                "M_TOP_PAD": 256 << 20}
    assert tuned["mapped"] < 200 << 20 <= tuned["kept"]  # not mapped (a few small chunks from before tune are)


def test_opted_out_glibc_maps_the_buffer_and_returns_it():
    default = _probe(SKILL_SIM_MALLOC="default")
    assert default["applied"] == {} and default["mapped"] >= 200 << 20 and default["kept"] < 200 << 20


def test_a_preset_variable_is_respected():
    preset = _probe(MALLOC_TOP_PAD_="0")
    assert "M_TOP_PAD" not in preset["applied"] and "M_MMAP_THRESHOLD" in preset["applied"]


def test_the_backbone_module_tunes_before_torch_is_imported():
    code = "import agents.backbone, agents.allocator as a, json; print(json.dumps(a.applied()))"
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "SKILL_SIM_MALLOC"}
    out = subprocess.run([sys.executable, "-c", code], env={**base, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True).stdout
    assert set(json.loads(out.strip().splitlines()[-1])) == {"M_MMAP_THRESHOLD", "M_TRIM_THRESHOLD", "M_TOP_PAD"}
