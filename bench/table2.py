"""The paper's Table 2 as a cost-only replay: wall time of `skill-sim run paper_table2` (N = 102, full
graph, broadcast, serial receive) and of its N = 51 variant, with the efficiency each prints.

    .venv/bin/python bench/table2.py [--repeat 3]

Each run is a fresh `skill-sim` process (start-up included: a synthetic workload imports no torch).
Prints a table and writes bench/results/table2.json. Target (issue 12): under 10 s per run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("paper_table2", "paper_table2_51")


def run_once(name: str, out: Path) -> tuple[float, dict]:
    """Wall seconds of one `skill-sim run NAME --json` and the results it printed."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sim.experiment.cli", "run", name, "--out", str(out), "--json",
                           "--quiet"], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"skill-sim run {name} failed ({proc.returncode}):\n{proc.stderr}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (min / median / max)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="skill-sim-table2-") as tmp:
        for name in SCENARIOS:
            walls, result = [], {}
            for i in range(args.repeat):
                wall, result = run_once(name, Path(tmp) / f"{name}-{i}")
                walls.append(wall)
            rows.append({"scenario": name, "agents": result["agents"], "tasks": result["tasks"],
                         "wall_s_min": min(walls), "wall_s_median": statistics.median(walls),
                         "wall_s_max": max(walls), "sim_wall_s": (result.get("simulation") or {}).get("wall_s"),
                         "efficiency": result["efficiency"],
                         "paper_efficiency": result["accounting"]["paper"]["efficiency"]})
    print(f"{'scenario':<18}{'N':>5}{'wall min / median / max (s)':>32}{'efficiency':>14}{'accounting':>14}")
    for r in rows:
        walls = f"{r['wall_s_min']:.2f} / {r['wall_s_median']:.2f} / {r['wall_s_max']:.2f}"
        print(f"{r['scenario']:<18}{r['agents']:>5}{walls:>32}{r['efficiency']:>14.8f}"
              f"{r['paper_efficiency'] if r['paper_efficiency'] is None else format(r['paper_efficiency'], '.8f'):>14}")
    out = ROOT / "bench" / "results" / "table2.json"
    out.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%d"), "host_cpus": os.cpu_count(),
                               "cpu": platform.processor() or platform.machine(), "python": sys.version.split()[0],
                               "target_s": 10.0, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
