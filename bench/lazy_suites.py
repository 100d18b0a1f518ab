"""Memory of the built-in suites' lazy tasks: peak RSS of building a suite and drawing every task.

    .venv/bin/python bench/lazy_suites.py [--suite mixed] [--tasks 102] [--scale 4] [--image-size 64]
                                          [--before PATH]

Each pass is a fresh process that builds the suite (`tasks.num_tasks` = N, then `--scale` x N) and
then reads every task's train and test images once, as a learning pass does, hashing them: its
peak RSS (ru_maxrss), CPU seconds (user + sys) and a digest of every task's fingerprint and pixels.
`--before PATH`: a source tree of another commit (e.g. `git worktree add /tmp/before main`), run
the same way beside this one; the digests must agree. Writes bench/results/lazy_suites.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "lazy_suites.json"

CHILD = r"""
import hashlib, json, resource, sys
from agents.config import SuiteConfig
from agents.suites import create_suite
suite = create_suite(SuiteConfig(suite=sys.argv[1], num_tasks=int(sys.argv[2]), image_size=int(sys.argv[3])))
built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
h = hashlib.sha256(suite.fingerprint.encode())
for task in suite.tasks:  # what learning reads: every task's images, once
    h.update(task.x_train.tobytes())
    h.update(task.x_test.tobytes())
r = resource.getrusage(resource.RUSAGE_SELF)
images = sum((len(t.y_train) + len(t.y_test)) for t in suite.tasks)
print(json.dumps({"peak_rss_mb_built": built / 1024, "peak_rss_mb": r.ru_maxrss / 1024,
                  "cpu_s": r.ru_utime + r.ru_stime, "images": images, "digest": h.hexdigest()}))
"""


def one_pass(tree: Path, suite: str, tasks: int, size: int) -> dict:
    """Build and read the suite in a fresh process with `tree` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CHILD, suite, str(tasks), str(size)], env=env, cwd=tree,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the pass in {tree} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="mixed")
    parser.add_argument("--tasks", type=int, default=102)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--before", type=Path, default=None, help="source tree to compare with")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    trees = {"this tree": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    rows = []
    for n in (args.tasks, args.tasks * args.scale):
        for label, tree in trees.items():  # side by side per size, so load falls on both alike
            rows.append({"tree": label, "path": str(tree), "tasks": n, **one_pass(tree, args.suite, n, args.image_size)})
    console = Console()
    table = Table(title=f"{args.suite} at {args.image_size} px: build, then read every task once")
    for col in ("tree", "tasks", "images", "peak RSS built MB", "peak RSS MB", "CPU s"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["tree"], str(r["tasks"]), f"{r['images']:,}", f"{r['peak_rss_mb_built']:.0f}",
                      f"{r['peak_rss_mb']:.0f}", f"{r['cpu_s']:.1f}")
    console.print(table)
    mine = {r["tasks"]: r for r in rows if r["tree"] == "this tree"}
    growth = mine[args.tasks * args.scale]["peak_rss_mb"] / mine[args.tasks]["peak_rss_mb"]
    agree = all(len({r["digest"] for r in rows if r["tasks"] == n}) == 1 for n in mine)
    console.print(f"peak RSS at {args.scale}x the tasks / at 1x: {growth:.3f}; digests agree across trees: {agree}")
    from agents.atomic import write_atomic  # light: no torch

    record = {"suite": args.suite, "image_size": args.image_size, "tasks": args.tasks, "scale": args.scale,
              "machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                          "note": "shared with other processes; CPU seconds, not wall"},
              "peak_rss_growth": growth, "digests_agree": agree, "runs": rows}
    write_atomic(args.out, (json.dumps(record, indent=2) + "\n").encode())
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
