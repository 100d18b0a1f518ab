"""Memory helpers of the compiled loops (numba): growable tables, huge pages, prefetches."""

from __future__ import annotations

import mmap
import sys

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


# The loop's big tables (merge times, blocks of packages on their way, flows) are read at random:
# at N = 5000 it is bound by TLB misses unless they sit on huge pages. numpy asks Linux for those on
# its own allocations; numba's allocator does not, so the loop asks with madvise (Linux only; called
# by symbol name, so the compiled loop stays cacheable).
CAN_POPULATE = sys.platform.startswith("linux")  # `populate_bytes` can fault pages in (Linux 5.14 on)
if sys.platform.startswith("linux"):
    _madvise = types.ExternalFunction("madvise", types.int32(types.uintp, types.uintp, types.int32))
    MADV_HUGEPAGE, MADV_POPULATE_WRITE = 14, 23

    @njit(cache=True)
    def huge(a: np.ndarray) -> None:
        """Ask for huge pages under the whole pages of a fresh (untouched) array of 2 MiB or more."""
        start = (a.ctypes.data + 4095) & ~4095
        end = (a.ctypes.data + a.nbytes) & ~4095
        if end > start + (1 << 21):
            _madvise(start, end - start, MADV_HUGEPAGE)

    @njit(cache=True, nogil=True)
    def populate_bytes(a: np.ndarray, start: int, stop: int) -> bool:
        """Fault in bytes [start, stop) of `a` (from the page holding `start`) for writing, contents
        unchanged, without holding the GIL; False where the kernel refuses (MADV_POPULATE_WRITE
        needs Linux 5.14; out of memory)."""
        begin = (a.ctypes.data + start) & ~4095
        return _madvise(begin, a.ctypes.data + stop - begin, MADV_POPULATE_WRITE) == 0
else:
    @njit(cache=True)
    def huge(a: np.ndarray) -> None:
        """Huge pages are asked for on Linux only."""

    def populate_bytes(a: np.ndarray, start: int, stop: int) -> bool:
        """Pages are faulted in ahead on Linux only."""
        return False


@intrinsic
def prefetch(typingctx, arr, i, j):
    """Start loading arr[i, j]'s cache line (arr[i + j] for a vector) for writing (llvm.prefetch):
    the loop knows the next event's agent and package one event ahead, and hides the memory
    latency behind this one."""
    sig = types.void(arr, i, j)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = [args[1], args[2]] if aryty.ndim == 2 else [builder.add(args[1], args[2])]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, index, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p, ir.IntType(32), ir.IntType(32), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        i32 = ir.IntType(32)
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


# Linux: a mapping that reserves no swap, so a bound far above what a run writes costs nothing
_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000 if sys.platform.startswith("linux") else 0)


def reserve(rows: int, cols: int, dtype, fallback_rows: int = 1024, lazy: bool = True) -> np.ndarray:
    """A table of `rows` x `cols` (cols 0: a vector) whose memory is taken only where it is written:
    an anonymous mapping, on huge pages. A loop that bounds a table's rows reserves the bound and
    never grows it (growing by doubling writes rows twice and takes twice the fresh pages, at 2-3 ms
    per MB on a VM whose balloon hands freed pages back to the host). Where the system refuses the
    mapping (strict overcommit, a virtual-memory limit, no anonymous mmap), `fallback_rows` rows of
    an ordinary array, which the loop grows as it fills. A table the loop writes whole is not
    `lazy`: the system then checks up front that it has the memory (MemoryError, not a kill later)."""
    width = max(cols, 1)
    nbytes = max(rows, 1) * width * np.dtype(dtype).itemsize
    try:
        m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | (_NORESERVE if lazy else 0))
    except (AttributeError, OSError, OverflowError, TypeError, ValueError):
        return np.empty((fallback_rows, cols) if cols else fallback_rows, dtype)
    try:
        m.madvise(mmap.MADV_HUGEPAGE)
    except (AttributeError, OSError):  # no such advice here (no transparent huge pages): small pages
        pass
    a = np.frombuffer(m, dtype=dtype)
    return a.reshape((-1, cols)) if cols else a


@njit(cache=True, error_model="numpy")
def grow(a: np.ndarray, need: int) -> np.ndarray:
    """`a` with room for at least `need` entries (doubling), contents kept."""
    if need <= len(a):
        return a
    b = np.empty(max(need, 2 * len(a)), a.dtype)
    huge(b)
    b[:len(a)] = a
    return b


@njit(cache=True, error_model="numpy")
def grow_rows(a: np.ndarray) -> np.ndarray:
    """A 2-D table with twice the rows, contents kept."""
    b = np.empty((2 * len(a), a.shape[1]), a.dtype)
    huge(b)
    b[:len(a)] = a
    return b
