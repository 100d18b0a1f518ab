"""Student cost of the Mahalanobis mapper at the paper's configuration, counted by the mapper itself.

    .venv/bin/python bench/mahalanobis_cost.py [--tasks 102] [--dim 2048] [--classes 49] [--m 5]

One receiver merges the packages of every other agent (tasks - 1 of them, as each of the paper's
102 agents does) with random anchors of the paper's shapes: one at a time, and all in one batch;
at shrinkage 0 (the paper preset: pseudo-inverse while the scatter is singular, then Woodbury where
cheaper) and 0.1 (this project's default: full re-inversions). Counts are the mapper's own
(agents.mapper), so they include every pseudo-inverse, inverse and Woodbury renewal it chose; the
receiver's forward passes over shared images (share: images) are added beside them per package.
Writes bench/results/mahalanobis_cost.json; prints a table.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from agents.anchors import MahalanobisAnchor
from agents.macs import mahalanobis_inverse_macs, mahalanobis_scatter_macs, woodbury_macs
from agents.mapper import MahalanobisMapper
from sim.experiment.results import write_json

OUT = Path(__file__).parent / "results" / "mahalanobis_cost.json"
XCEPTION_MACS_PER_IMAGE = 8.355e9  # legacy_xception at 299 px (tests/agents/test_macs.py's hand count)
PAPER_STUDENT_MACS = 5.0e9  # Table 2, Mahalanobis, per package


def anchors(count: int, d: int, classes: int, m: int, seed: int = 0):
    """`count` anchors of `classes` classes and m exemplars each, drawn at random in d dimensions."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), m).astype(np.int64)
    for _ in range(count):
        means = rng.normal(0, 1, (classes, d)).astype(np.float32)
        ex = (means[labels] + rng.normal(0, 1, (len(labels), d))).astype(np.float32)
        yield MahalanobisAnchor(means, ex, labels)


def receive(args, shrinkage: float, batched: bool) -> dict:
    """One receiver's counted MACs for the tasks - 1 packages, and how it renewed its precision."""
    mapper, start = MahalanobisMapper(shrinkage=shrinkage), time.perf_counter()
    items = list(enumerate(anchors(args.tasks - 1, args.dim, args.classes, args.m)))
    renewals: Counter = Counter()
    if batched:
        macs = mapper.add_batch(items)
        renewals[mapper.last_renewal + (" (pseudo)" if mapper.pseudo_inverse else "")] += 1
    else:
        macs = 0
        for tid, anchor in items:
            macs += mapper.add(tid, anchor)
            renewals[mapper.last_renewal + (" (pseudo)" if mapper.pseudo_inverse else "")] += 1
    n = len(items)
    return {"shrinkage": shrinkage, "batched": batched, "packages": n, "student_macs": int(macs),
            "per_package": macs / n, "per_package_with_images": macs / n + args.classes * args.m * XCEPTION_MACS_PER_IMAGE,
            "renewals": dict(renewals), "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=102)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--classes", type=int, default=49)
    parser.add_argument("--m", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    d, n = args.dim, args.classes * args.m
    parts = {"scatter": mahalanobis_scatter_macs(n, d), "inverse": mahalanobis_inverse_macs(d),
             "pseudo_inverse": mahalanobis_inverse_macs(d, pseudo=True), "woodbury": woodbury_macs(n, d),
             "recache_own_classes": args.classes * (d * d + d), "images": n * XCEPTION_MACS_PER_IMAGE}
    runs = [receive(args, s, b) for s in (0.0, 0.1) for b in (False, True)]
    report = {"settings": vars(args) | {"out": str(args.out), "python": platform.python_version()},
              "parts_per_package": parts, "paper_student_macs": PAPER_STUDENT_MACS, "runs": runs}
    write_json(args.out, report)
    t = Table(title=f"Mahalanobis student MACs, one receiver of {args.tasks - 1} packages ({d}-D, "
                    f"{args.classes} classes x m {args.m}); paper: {PAPER_STUDENT_MACS:.1e} per package")
    for col in ("shrinkage", "merges", "per package (features)", "with images", "renewals", "s"):
        t.add_column(col)
    for r in runs:
        t.add_row(f"{r['shrinkage']}", "one batch" if r["batched"] else "one at a time", f"{r['per_package']:.3e}",
                  f"{r['per_package_with_images']:.3e}", ", ".join(f"{k} {v}" for k, v in r["renewals"].items()),
                  f"{r['seconds']:.0f}")
    Console().print(t)
    print("parts per package:", {k: f"{v:.3e}" for k, v in parts.items()})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
