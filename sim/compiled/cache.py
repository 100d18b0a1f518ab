"""Keeps numba's on-disk cache of the compiled loops honest.

numba's `cache=True` keys a function's machine code on the function's own source file only: a loop
that inlines helpers from another file (heap.py, memory.py, pushpull_inbox.py, sim/ranks.py) would
load stale code after an edit of those helpers. `refresh` flushes the package's cached code
whenever any of those sources changed since the code was cached (a stamp beside numba's index).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SOURCES = sorted(PACKAGE.glob("*.py")) + [PACKAGE.parent / "ranks.py"]
_checked: set[str] = set()  # modules whose cache this process has checked


def sources_digest() -> str:
    """sha256 over the sources whose code the compiled loops contain."""
    h = hashlib.sha256()
    for path in SOURCES:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def refresh() -> None:
    """For each loaded sim.compiled module not checked yet in this process: flush the cached code
    of its jitted functions if the sources changed since that code was cached (a stamp per module
    beside numba's index), before a first call compiles or loads it."""
    digest = None
    for name, module in list(sys.modules.items()):
        if not name.startswith("sim.compiled.") or name in _checked:
            continue
        _checked.add(name)
        caches = [obj._cache for obj in vars(module).values() if getattr(obj, "_cache", None) is not None
                  and getattr(getattr(obj, "py_func", None), "__module__", "") == name]
        if not caches:
            continue
        digest = digest or sources_digest()
        stamp = Path(caches[0].cache_path) / f"{name.rsplit('.', 1)[1]}.sources.sha256"
        try:
            if stamp.exists() and stamp.read_text().strip() == digest:
                continue
            for cache in caches:
                cache.flush()
            stamp.write_text(digest + "\n")
        except OSError:  # a read-only install: numba then keeps its cache elsewhere, or none
            continue
