"""Accuracy over simulated time: what checkpoints add to a run's wall time.

    .venv/bin/python bench/checkpoints.py [--scenario ring_51] [--checkpoints 20] [--agent-banks 3]

Learns the scenario once (warm cache: nothing), simulates it at its alpha, then times
- the final evaluation (survivors' banks, with an Agent each, as every run does);
- `evaluation: {every_s: makespan / K}` (K + 1 checkpoints, all agents): distinct banks, how many
  were scored, the scorer's one-off set-up and the seconds per bank (sim.experiment.checkpoints);
- for comparison, `--agent-banks` of those banks evaluated the other way, an Agent each (what
  every bank would cost without agents.bank_scores), checked equal to the scorer's;
- the same checkpoints again as a second run sees them (a new Learning, nothing in memory): every
  bank is read back from the on-disk evaluation cache (agents.cache.evaluations), in CPU seconds.
Banks already on disk before the first pass are not scored by it either (`recalled_banks`): for a
cold figure point $SKILL_SIM_CACHE at a cache whose `evaluations/` folder is empty.
Writes bench/results/checkpoints.json atomically; prints a rich table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "checkpoints.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="ring_51")
    parser.add_argument("--checkpoints", type=int, default=20, help="K: every_s = makespan / K")
    parser.add_argument("--agent-banks", type=int, default=3, help="banks also evaluated with an Agent each")
    args = parser.parse_args()

    from agents.agent import Agent
    from agents.bank_scores import BankScorer
    from sim.banks import banks_at
    from sim.experiment import checkpoints, runner
    from sim.experiment.evaluation_config import EvaluationSection
    from sim.experiment.loading import load_scenario

    scenario = load_scenario(args.scenario)
    start = time.perf_counter()
    prepared = runner.prepare(scenario)
    prepare_s = time.perf_counter() - start
    learning = prepared.learning
    start = time.perf_counter()
    results, raw = runner.run_alpha(prepared, scenario.alphas[0])  # simulation + final evaluation
    run_s = time.perf_counter() - start
    makespan = results["makespan_s"]
    spec = EvaluationSection(every_s=makespan / args.checkpoints)
    with_eval = scenario.model_copy(update={"evaluation": spec})
    marks: dict[str, float] = {}

    def observe(name: str, /, **fields) -> None:
        if name == "checkpoints_evaluating":
            marks["scorer_start"] = time.perf_counter()
        elif name == "checkpoint_evaluated" and "first_bank" not in marks:
            marks["first_bank"] = time.perf_counter()

    start, cpu = time.perf_counter(), time.process_time()
    aot = checkpoints.accuracy_over_time(learning, with_eval, raw, progress=observe)
    checkpoints_s, checkpoints_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    rerun = runner.prepare(scenario).learning  # a second run's view: its own, empty, in-memory store
    start, cpu = time.perf_counter(), time.process_time()
    again = checkpoints.accuracy_over_time(rerun, with_eval, raw)
    again_s, again_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    setup_s = marks.get("first_bank", start) - marks.get("scorer_start", start)
    per_bank_s = (checkpoints_s - setup_s) / max(aot["evaluated_banks"], 1)

    times = spec.times(makespan)
    banks = banks_at(raw, times, range(scenario.agents.count))
    sample = sorted({b for step in banks for b in step.values()}, key=len)
    picked = [sample[len(sample) * (i + 1) // (args.agent_banks + 1)] for i in range(args.agent_banks)]
    agent_s, equal = [], True
    scorer = BankScorer(learning.backbone, scenario.learner, learning.features, learning.suite,
                        {t: r.package for t, r in learning.learned.items()})
    for bank in picked:
        t0 = time.perf_counter()
        agent = Agent(-1, learning.backbone, scenario.learner, cache=learning.features)
        for tid in sorted(bank):
            agent.receive(learning.learned[tid].package)
        reference = agent.evaluate(learning.suite)
        agent_s.append(time.perf_counter() - t0)
        equal &= reference == scorer.evaluate(bank)

    row = {
        "scenario": args.scenario,
        "agents": scenario.agents.count,
        "tasks": results["tasks"],
        "makespan_s": makespan,
        "checkpoints": len(times),
        "distinct_banks": aot["distinct_banks"],
        "evaluated_banks": aot["evaluated_banks"],
        "recalled_banks": aot["recalled_banks"],
        "prepare_s": prepare_s,
        "run_alpha_s": run_s,
        "checkpoints_s": checkpoints_s,
        "checkpoints_cpu_s": checkpoints_cpu_s,
        "again": {"evaluated_banks": again["evaluated_banks"], "recalled_banks": again["recalled_banks"],
                  "wall_s": again_s, "cpu_s": again_cpu_s, "same_curve": again["checkpoints"] == aot["checkpoints"]},
        "scorer_setup_s": setup_s,
        "per_bank_s": per_bank_s,
        "agent_per_bank_s": sum(agent_s) / len(agent_s) if agent_s else None,
        "agent_bank_sizes": [len(b) for b in picked],
        "scorer_equals_agent": bool(equal),
        "auc": aot["auc"],
        "final_accuracy": results["accuracy"],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(row, indent=2) + "\n")
    tmp.replace(OUT)

    table = Table(title=f"accuracy over time: {args.scenario}, {len(times)} checkpoints (every_s = makespan / "
                        f"{args.checkpoints})")
    table.add_column("what")
    table.add_column("value", justify="right")
    for label, value in [
        ("simulation + final evaluation", f"{run_s:.2f} s"),
        ("checkpoints in all (added wall time)", f"{checkpoints_s:.2f} s"),
        ("  scorer set-up (once)", f"{setup_s:.2f} s"),
        ("  per distinct bank", f"{1e3 * per_bank_s:.2f} ms"),
        ("distinct banks / evaluated / from disk", f"{aot['distinct_banks']} / {aot['evaluated_banks']} / "
                                                     f"{aot['recalled_banks']}"),
        ("checkpoints, CPU s", f"{checkpoints_cpu_s:.2f} s"),
        ("again (a second run), CPU s", f"{again_cpu_s:.2f} s: {again['recalled_banks']} banks from disk, "
                                        f"{again['evaluated_banks']} scored, same curve {row['again']['same_curve']}"),
        ("an Agent per bank instead", f"{row['agent_per_bank_s'] or 0:.2f} s (banks of {row['agent_bank_sizes']})"),
        ("scorer equals Agent", str(equal)),
        ("AUC / final accuracy", f"{aot['auc']:.4f} / {results['accuracy']:.4f}"),
    ]:
        table.add_row(label, value)
    Console().print(table)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
