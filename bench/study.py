"""The shipped topology_alpha study (5 topologies x 5 alphas x 5 seeds = 125 cells of 51 agents) on a
warm learning cache: total wall time with the local executor, the per-cell split into scenario
resolution, simulation, evaluation and result writing, and the Ray executor at the same worker count.

    .venv/bin/python bench/study.py [--study scenarios/studies/topology_alpha.yaml] [--workers 2] [--no-ray]
        [--cache DIR] [--before OTHER_CHECKOUT] [--note TEXT]

Run it once first (or any study of the same scenarios) to warm the cache: learning is not what this
measures. Prints a table and writes bench/results/study.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from scenario import machine  # noqa: E402  (bench/scenario.py: the machine's description)


def timed_study(study: str, out: Path, executor: str, workers: int, cache: str | None,
                code: Path = ROOT) -> tuple[float, dict]:
    """Run `skill-sim study` (of the checkout `code`) into a fresh `out`; return wall seconds and its --json answer."""
    args = [sys.executable, "-m", "sim.experiment.cli", "study", str(ROOT / study), "--out", str(out),
            "--executor", executor, "--workers", str(workers), "--json", "--quiet"] + (["--cache", cache] if cache else [])
    start = time.perf_counter()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(code)}
    proc = subprocess.run(args, cwd=code, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"skill-sim study ({executor}) failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="scenarios/studies/topology_alpha.yaml")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", help="learning cache (default: $SKILL_SIM_CACHE or ~/.cache/skill-sim)")
    parser.add_argument("--no-ray", action="store_true", help="measure the local executor only")
    parser.add_argument("--note", default="", help="a remark saved with the figures (e.g. the machine was shared)")
    parser.add_argument("--keep", type=Path, help="copy the local executor's study directory here")
    parser.add_argument("--before", type=Path, help="another checkout (e.g. the code before a change): its Ray "
                                                    "executor is measured too, in the same run, after this one's")
    args = parser.parse_args()

    runs = [("local", "local", ROOT), *(() if args.no_ray else (("ray", "ray", ROOT),))]
    if args.before and not args.no_ray:
        runs.append(("ray", f"ray (before: {args.before})", args.before.resolve()))
    rows = []
    with tempfile.TemporaryDirectory(prefix="skill-sim-bench-study-") as tmp:
        for i, (executor, label, code) in enumerate(runs):
            load_before = os.getloadavg()[0]
            wall, answer = timed_study(args.study, Path(tmp) / str(i), executor, args.workers, args.cache, code)
            if executor == "local" and args.keep:
                shutil.copytree(Path(tmp) / str(i), args.keep, dirs_exist_ok=True)
            cells = sum(answer["counts"].values())
            rows.append({"executor": label, "workers": args.workers, "cells": cells, "wall_s": wall,
                         "load_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                         "per_cell_wall_s": wall / cells, "per_cell_split_s": answer["timings"],
                         "counts": answer["counts"], "crossings": answer["crossings"]})
    local = rows[0]["wall_s"]
    for row in rows:
        row["vs_local"] = row["wall_s"] / local

    table = Table(title=f"skill-sim study · {args.study} · {args.workers} workers (warm cache)")
    for col in ("executor", "cells", "total s", "s / cell", "resolution", "simulation", "evaluation", "writing", "vs local"):
        table.add_column(col, justify="right")
    for r in rows:
        split = r["per_cell_split_s"]
        table.add_row(r["executor"], str(r["cells"]), f"{r['wall_s']:.1f}", f"{r['per_cell_wall_s']:.2f}",
                      *(f"{split.get(k, 0):.3f}" for k in ("resolution_s", "simulation_s", "evaluation_s", "writing_s")),
                      f"{r['vs_local']:.2f}x")
    Console().print(table)
    result = {"machine": machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "study": args.study, "note": args.note,
              "split_meaning": "mean seconds per cell inside a worker (resolution: scenario + prepare on the warm "
                               "cache; simulation; evaluation of banks not evaluated before; writing the run "
                               "directory); total s also counts worker start-up, learning-cache checks and tables",
              "rows": rows}
    target = ROOT / "bench" / "results" / "study.json"
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
