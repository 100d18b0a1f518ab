"""Student cost of the Mahalanobis mapper at the paper's configuration, by the mapper's cost model.

    .venv/bin/python bench/mahalanobis_cost.py [--tasks 102] [--dim 2048] [--classes 49] [--m 5]

One receiver merges the packages of every other agent (tasks - 1 of them, as each of the paper's
102 agents does): one at a time, and all in one batch; at shrinkage 0 (the paper preset:
pseudo-inverse while the scatter is singular, then Woodbury where cheaper) and 0.1 (this project's
default: full re-inversions). The paper's scale is counted by agents.mapper.receiver_macs (the
mapper's rule and MAC formulas without the numerics, which take hours on this 2-core VM); the same
variants at --check-dim are also run through a real MahalanobisMapper on random anchors, and the
two counts must agree. The receiver's forward passes over shared images (share: images) are added
per package. Writes bench/results/mahalanobis_cost.json; prints a table.
"""

from __future__ import annotations

import argparse
import platform
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from agents.anchors import MahalanobisAnchor
from agents.macs import mahalanobis_inverse_macs, mahalanobis_scatter_macs, woodbury_macs
from agents.mapper import MahalanobisMapper, receiver_macs
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


def measured(count: int, d: int, classes: int, m: int, shrinkage: float, batched: bool) -> tuple[int, dict]:
    """The same receiver through a real MahalanobisMapper on random anchors: its counted MACs and renewals."""
    mapper, renewals = MahalanobisMapper(shrinkage=shrinkage), Counter()
    items = list(enumerate(anchors(count, d, classes, m)))
    steps = [items] if batched else [[item] for item in items]
    macs = 0
    for step in steps:
        macs += mapper.add_batch(step)
        renewals[mapper.last_renewal + (" (pseudo)" if mapper.pseudo_inverse and mapper.last_renewal == "inverse" else "")] += 1
    return int(macs), dict(renewals)


def row(args, shrinkage: float, batched: bool) -> dict:
    """One receiver's counted MACs for the tasks - 1 packages, and how it renewed its precision."""
    count = args.tasks - 1
    macs, renewals = receiver_macs(count, args.dim, args.classes, args.m, shrinkage, batched)
    check = measured(count, args.check_dim, args.classes, args.m, shrinkage, batched)
    model = receiver_macs(count, args.check_dim, args.classes, args.m, shrinkage, batched)
    if check != model:
        raise SystemExit(f"cost model {model} != mapper {check} at d = {args.check_dim}")
    return {"shrinkage": shrinkage, "batched": batched, "packages": count, "student_macs": int(macs),
            "per_package": macs / count,
            "per_package_with_images": macs / count + args.classes * args.m * XCEPTION_MACS_PER_IMAGE,
            "renewals": renewals, f"mapper_check_d{args.check_dim}": {"student_macs": check[0], "renewals": check[1]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=102)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--classes", type=int, default=49)
    parser.add_argument("--m", type=int, default=5)
    parser.add_argument("--check-dim", type=int, default=128, help="dimension of the real mapper's check run")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    d, n = args.dim, args.classes * args.m
    parts = {"scatter": mahalanobis_scatter_macs(n, d), "inverse": mahalanobis_inverse_macs(d),
             "pseudo_inverse": mahalanobis_inverse_macs(d, pseudo=True), "woodbury": woodbury_macs(n, d),
             "recache_own_classes": args.classes * (d * d + d), "images": n * XCEPTION_MACS_PER_IMAGE}
    runs = [row(args, s, b) for s in (0.0, 0.1) for b in (False, True)]
    report = {"settings": vars(args) | {"out": str(args.out), "python": platform.python_version()},
              "parts_per_package": parts, "paper_student_macs": PAPER_STUDENT_MACS, "runs": runs}
    write_json(args.out, report)
    t = Table(title=f"Mahalanobis student MACs, one receiver of {args.tasks - 1} packages ({d}-D, "
                    f"{args.classes} classes x m {args.m}); paper: {PAPER_STUDENT_MACS:.1e} per package")
    for col in ("shrinkage", "merges", "per package (features)", "with images", "renewals"):
        t.add_column(col)
    for r in runs:
        t.add_row(f"{r['shrinkage']}", "one batch" if r["batched"] else "one at a time", f"{r['per_package']:.3e}",
                  f"{r['per_package_with_images']:.3e}", ", ".join(f"{k} {v}" for k, v in r["renewals"].items()))
    Console().print(t)
    print("parts per package:", {k: f"{v:.3e}" for k, v in parts.items()})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
