"""Allocator benchmark: a cold learning pass with glibc's default malloc settings against the ones
agents.allocator applies (SKILL_SIM_MALLOC=default opts out), in interleaved pairs.

    .venv/bin/python bench/allocator.py [--scenario ring_51] [--tasks 12] [--agents 6] [--pairs 3]

Each pass is a fresh process (the settings are per process) learning every task of the scenario into
a fresh, empty cache: system and user CPU seconds and wall time of `runner.prepare` alone (imports
excluded), page faults, and the sha256 of every feature file and package written. The passes of
each pair must write bitwise identical files. Pairs are interleaved (A, B, A, B, ...) so that load
from other processes on a shared machine falls on both settings alike.
Writes bench/results/allocator.json atomically; prints a rich table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "allocator.json"

# The child: load the scenario, learn it into $SKILL_SIM_CACHE, report rusage of prepare() only.
CHILD = r"""
import hashlib, json, resource, sys, time
from pathlib import Path
from sim.experiment.loading import load_scenario
from sim.experiment import runner
from agents import allocator
scenario = load_scenario(sys.argv[1], sys.argv[2:])
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
prepared = runner.prepare(scenario)
wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
root = prepared.learning.features.root
files = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
         for p in sorted(root.rglob("*")) if p.suffix in (".npy", ".pkg")}
print(json.dumps({"wall_s": wall, "sys_s": after.ru_stime - before.ru_stime,
                  "user_s": after.ru_utime - before.ru_utime,
                  "minor_faults": after.ru_minflt - before.ru_minflt,
                  "fresh": len(prepared.learning.fresh), "applied": allocator.applied(), "files": files}))
"""


def one_pass(scenario: str, overrides: list[str], tuned: bool) -> dict:
    """A cold learning pass in a fresh process and a fresh cache; its measurements and file digests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT)
    env["HF_HUB_OFFLINE"] = "1"
    if not tuned:
        env["SKILL_SIM_MALLOC"] = "default"
    else:
        env.pop("SKILL_SIM_MALLOC", None)
    with tempfile.TemporaryDirectory(prefix="skill-sim-alloc-") as cache:
        env["SKILL_SIM_CACHE"] = cache
        out = subprocess.run([sys.executable, "-c", CHILD, scenario, *overrides], env=env, cwd=ROOT,
                             capture_output=True, text=True)
    if out.returncode != 0:  # say why, rather than a bare CalledProcessError after minutes of learning
        raise SystemExit(f"a {'tuned' if tuned else 'default'} pass failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="ring_51")
    parser.add_argument("--tasks", type=int, default=12, help="tasks.num_tasks (ring_51 has 102)")
    parser.add_argument("--agents", type=int, default=6, help="agents.count")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT, help="where the JSON goes")
    args = parser.parse_args()
    overrides = [f"tasks.num_tasks={args.tasks}", f"agents.count={args.agents}"]
    console = Console()
    runs: list[dict] = []
    for pair in range(args.pairs):
        for tuned in (False, True):
            result = one_pass(args.scenario, overrides, tuned)
            result["setting"] = "tuned" if tuned else "default"
            result["pair"] = pair
            runs.append(result)
            console.print(f"pair {pair} {result['setting']:>7}: wall {result['wall_s']:.1f} s, "
                          f"sys {result['sys_s']:.1f} s, user {result['user_s']:.1f} s", highlight=False)
    identical = len({json.dumps(r["files"], sort_keys=True) for r in runs}) == 1
    reference = runs[0]["files"]
    for r in runs:  # which files differ from the first pass's, per pass
        r["differs_from_first"] = sorted(f for f in set(reference) | set(r["files"]) if reference.get(f) != r["files"].get(f))
    summary = {}
    for setting in ("default", "tuned"):
        mine = [r for r in runs if r["setting"] == setting]
        summary[setting] = {k: statistics.median(r[k] for r in mine) for k in ("wall_s", "sys_s", "user_s", "minor_faults")}
    table = Table(title=f"cold learning pass: {args.scenario}, {args.tasks} tasks, median of {args.pairs}")
    for col in ("setting", "wall s", "sys s", "user s", "minor faults"):
        table.add_column(col, justify="right")
    for setting, s in summary.items():
        table.add_row(setting, f"{s['wall_s']:.1f}", f"{s['sys_s']:.1f}", f"{s['user_s']:.1f}", f"{s['minor_faults']:,.0f}")
    console.print(table)
    console.print(f"feature files and packages bitwise identical across all passes: {identical} "
                  f"({len(runs[0]['files'])} files)")
    from agents.atomic import write_atomic  # light: no torch

    record = {
        "scenario": args.scenario, "overrides": overrides, "pairs": args.pairs, "order": "interleaved A,B per pair",
        "machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "libc": " ".join(platform.libc_ver()), "note": "shared with other processes; pairs interleaved"},
        "median": summary, "bitwise_identical": identical, "files_compared": len(runs[0]["files"]),
        "files_sha256": hashlib.sha256(json.dumps(runs[0]["files"], sort_keys=True).encode()).hexdigest(),
        "runs": runs,
    }
    for r in runs:
        console.print(f"pair {r['pair']} {r['setting']}: {len(r['differs_from_first'])} files differ from the first pass",
                      highlight=False)
    write_atomic(args.out, (json.dumps(record, indent=2) + "\n").encode())
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
