"""Merge renewals in the engine: student MACs of a ring_51-shaped Mahalanobis run (cost only) with
each merge batch charged a full (pseudo-)inversion, against the learner's rule from each receiver's
scatter state (Woodbury where exact and cheaper; sim.engine.merging.ScatterStates).

    .venv/bin/python bench/merge_renewals.py [--dim 1280] [--agents 51] [--out bench/results/merge_renewals.json]

102 tasks, 2 per agent on a ring, flood, alpha 1000 at 5e10 MACs/s; task t has 2 + t % 5 classes
and m = 5 exemplars per class (the default suite's 2-6 classes, features shared). Shrinkage 0 (the
paper preset): a receiver's scatter is singular until 1280 exemplars are merged (about 61 tasks),
then exact. No learning: the costs are the counted formulas (agents.merge_costs).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import networkx as nx

from agents.merge_costs import Scatter, mahalanobis_inverse_macs, mahalanobis_scatter_macs
from sim import FailuresConfig, FloodConfig, NetworkConfig, simulate
from sim.experiment.results import write_json
from sim.workload import TaskWork, Workload

OUT = Path(__file__).parent / "results" / "merge_renewals.json"
RATE, ALPHA, M = 5e10, 1000.0, 5


def workload(agents: int, d: int, model: str) -> Workload:
    """The 2-per-agent workload with merges charged by `model`: "full" (every batch the lone
    package's pseudo-inverse plus re-caching every class held) or "scatter" (the learner's rule)."""
    tasks = []
    for t in range(2 * agents):
        c = 2 + t % 5
        n = M * c
        lone_pseudo = n < d  # a package alone into an empty bank: singular at shrinkage 0
        tasks.append(TaskWork(t, t // 2, macs=int(1.8e10), nbytes=(c + n) * d * 4 + 1000,
                              student_macs=mahalanobis_scatter_macs(n, d),
                              batch_macs=0 if model == "scatter" else mahalanobis_inverse_macs(d, lone_pseudo),
                              hold_macs=0 if model == "scatter" else c * d * d + c * d,
                              exemplars=n if model == "scatter" else 0, classes=c if model == "scatter" else 0))
    return Workload(tasks, scatter=Scatter(d, shrunk=False) if model == "scatter" else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--agents", type=int, default=51)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    graph = nx.cycle_graph(args.agents)
    nx.set_edge_attributes(graph, RATE / ALPHA, "bandwidth")
    nx.set_edge_attributes(graph, 0.001, "latency")
    nx.set_edge_attributes(graph, 0.0, "loss")
    rows = {}
    for model in ("full", "scatter"):
        start = time.process_time()
        res = simulate(graph, workload(args.agents, args.dim, model), rates=[RATE] * args.agents, network=NetworkConfig(),
                       gossip=FloodConfig(), failures=FailuresConfig(), seed=0)
        rows[model] = {"student_macs": res.metrics.student_macs, "makespan_s": res.metrics.makespan_s,
                       "cpu_s": time.process_time() - start}
        print(f"{model:8s} student MACs {res.metrics.student_macs:.4e}, makespan {res.metrics.makespan_s:.4f} s")
    ratio = rows["scatter"]["student_macs"] / rows["full"]["student_macs"]
    print(f"scatter / full student MACs: {ratio:.3f}")
    write_json(args.out, {"settings": {"dim": args.dim, "agents": args.agents, "tasks": 2 * args.agents, "m": M,
                                       "rate": RATE, "alpha": ALPHA, "shrinkage": 0.0}, "rows": rows,
                          "scatter_over_full": ratio})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
