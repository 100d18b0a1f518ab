"""End-to-end timing of the main job: `skill-sim run` cold and warm, and a 7-alpha sweep warm.

    .venv/bin/python bench/scenario.py [--scenario scenarios/ring_51.yaml] [--also scenarios/full_51_paper.yaml]

Cold means an empty cache (every feature computed, every task learned); warm reuses it. Prints a
table and writes bench/results/scenario.json, including where efficiency crosses 0.5 per scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
ALPHAS = "10,100,1e3,1e4,1e5,1e6,1e7"



def _num(x: float | None, fmt: str) -> str:
    """`x` formatted, or "—" for None (a run that never reached full knowledge has no speedup)."""
    return "—" if x is None else format(x, fmt)

CPU: dict[str, float] = {}  # CPU seconds (user + system) of each timed command, by its label


def timed(args: list[str], cache: Path, label: str = "") -> tuple[float, dict]:
    """Run the CLI with --json and return wall seconds and the JSON it printed; its CPU seconds
    (user + system, all its processes: a figure a loaded machine changes less) go in CPU[label]."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sim.experiment.cli", *args, "--cache", str(cache), "--json", "--quiet"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[label] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"skill-sim {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return wall, json.loads(proc.stdout)


def machine() -> dict:
    """What the figures were measured on: CPU model and count, memory, Python and torch versions."""
    import importlib.metadata as md
    import platform

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    import torch

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": model, "cpus": os.cpu_count(), "memory_gib": round(memory, 1), "gpu": gpu,
            "python": sys.version.split()[0], "torch": md.version("torch")}


def bench(scenario: str, cache: Path, out: Path, cold: bool) -> dict:
    """Cold run (if asked), warm run and warm sweep of one scenario."""
    row: dict = {"scenario": scenario}
    name = Path(scenario).stem
    if cold:
        row["cold_run_s"], _ = timed(["run", scenario, "--out", str(out / name)], cache, "cold_run")
    row["warm_run_s"], result = timed(["run", scenario, "--out", str(out / name)], cache, "warm_run")
    row["sweep_warm_s"], sweep = timed(["sweep", scenario, "--alpha", ALPHAS, "--out", str(out / f"{name}-sweep")], cache,
                                       "sweep_warm")
    row["cpu_s"] = dict(CPU)  # user + system seconds of each command above
    row["load_average"] = os.getloadavg()  # after the last: what else this machine was running
    CPU.clear()
    keys = ("agents", "tasks", "alpha", "makespan_s", "single_agent_s", "speedup", "efficiency", "accuracy",
            "mapper_accuracy", "oracle_accuracy", "bytes_sent", "alpha_cost")
    row["run"] = {k: result[k] for k in keys}
    row["learning_wall_s"] = result["learning"]["wall_s"]
    row["sweep"] = sweep["rows"]
    row["efficiency_half_alpha"] = sweep["efficiency_half_alpha"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/ring_51.yaml")
    parser.add_argument("--also", action="append", default=["scenarios/full_51_paper.yaml"],
                        help="further scenarios to time warm (sharing the first one's learned tasks)")
    parser.add_argument("--cache", type=Path, help="reuse this cache (then 'cold' is not cold)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "scenario.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp) / "cache"
        out = Path(tmp) / "runs"
        rows = [bench(args.scenario, cache, out, cold=args.cache is None)]
        rows += [bench(s, cache, out, cold=False) for s in args.also if s != args.scenario]

    table = Table(title="skill-sim end to end (this machine)", title_justify="left")
    for col in ("scenario", "cold run s", "warm run s", "sweep 7α warm s", "speedup α=1e3", "efficiency", "α at eff 0.5",
                "accuracy"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["scenario"], f"{r.get('cold_run_s', float('nan')):.1f}", f"{r['warm_run_s']:.1f}",
                      f"{r['sweep_warm_s']:.1f}", _num(r["run"]["speedup"], ".2f"), _num(r["run"]["efficiency"], ".3f"),
                      f"{r['efficiency_half_alpha']:.3g}" if r["efficiency_half_alpha"] else "—",
                      f"{100 * r['run']['accuracy']:.1f} %")
    Console(width=160).print(table)
    report = {"machine": machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "alphas": ALPHAS,
              "rows": rows}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp_json = args.json.with_suffix(".tmp")
    tmp_json.write_text(json.dumps(report, indent=2) + "\n")
    tmp_json.replace(args.json)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
