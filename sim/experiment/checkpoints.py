"""Accuracy over simulated time (the scenario's `evaluation` section): every chosen agent's bank at
each checkpoint, as the run's record has it, evaluated with no task oracle.

Banks are evaluated once per distinct content, through the same store as the final evaluation
(`Learning._evaluations`: a dict for a run or sweep, a study's EvaluationStore shared by its
cells), so the many agents and checkpoints that hold one bank cost one evaluation. A bank not in
the store is looked up on disk (agents.cache.evaluations: keyed by its packages' content and the
evaluation settings, so a rerun or another study cell holding the same packages costs nothing);
banks not found there either are scored with agents.bank_scores where the heads' verdicts are
shared (no beneficial biases: the test set and each head's verdict computed once; with GMMC every
task scored once and a bank is an argmax, with Mahalanobis each bank's mapper built and asked; equal
to an agent's evaluation), and with an Agent each otherwise (learned.evaluate_with_agents).

The population's accuracy at t is the mean over the chosen agents that are up at t (an agent down
then answers nothing and is left out, as the final evaluation leaves out the dead); a bank wiped
by a crash restarts empty at the recovery, so that agent's accuracy dips and climbs back.
`auc` is the area under that mean curve by the trapezoid rule, divided by the checkpoint span:
the population's mean accuracy over [first, last checkpoint] (0 at a checkpoint where no chosen
agent is up). Runs compare on it when they share a span: explicit checkpoints, or every_s with
until_s; with every_s alone each run spans its own [0, makespan].
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from sim.banks import alive_at, banks_at
from sim.experiment.evaluation_config import AgentSample, EvaluationSection
from sim.simulate import SimResult

if TYPE_CHECKING:  # loads torch: imported for real only by runs that learn
    from sim.experiment.learned import Learning
    from sim.experiment.scenario import Scenario

Progress = Callable[..., None]

# Entropy beside the root seed for the agents `sample: K` draws (apart from the children the run
# already spawns: [seed, 1] simulation, [seed, 2] synthetic costs, [seed, task] learning).
SAMPLE_STREAM = 0x65_76_61_6C  # "eval"


def _quiet(name: str, /, **fields: Any) -> None:
    """Default progress callback: ignore everything."""


def chosen_agents(spec: EvaluationSection, count: int, seed: int) -> list[int]:
    """The agents evaluated: all, or `sample` of them drawn once from the root seed (ascending)."""
    if not isinstance(spec.agents, AgentSample):
        return list(range(count))
    rng = np.random.default_rng(np.random.SeedSequence([seed, SAMPLE_STREAM]))
    return sorted(int(a) for a in rng.choice(count, size=spec.agents.sample, replace=False))


def run_end(result: SimResult) -> float:
    """Where every_s stops by default: the makespan, or the last bank change when it is never reached."""
    makespan = float(result.metrics.makespan_s)
    if math.isfinite(makespan):
        return makespan
    changes = [t for t in result.known_at[np.isfinite(result.known_at)].tolist()] + [r[0] for r in result.removed]
    return max(changes, default=0.0)


def area(times: list[float], values: list[float]) -> float:
    """Trapezoid area under (times, values) divided by the span; the value itself at one point."""
    if len(times) == 1:
        return float(values[0])
    total = sum((t1 - t0) * (v0 + v1) / 2 for t0, t1, v0, v1 in zip(times, times[1:], values, values[1:]))
    return float(total / (times[-1] - times[0]))


def accuracy_over_time(learning: Learning, scenario: Scenario, result: SimResult, *,
                       progress: Progress = _quiet) -> dict[str, Any]:
    """results.json's `accuracy_over_time`: per checkpoint the mean, min and max accuracy of the
    chosen agents up then, how many were up, each agent's accuracy where asked, and the AUC."""
    spec = scenario.evaluation
    start = time.perf_counter()
    agents = chosen_agents(spec, scenario.agents.count, scenario.seed)
    times = spec.times(run_end(result))
    banks, up = banks_at(result, times, agents), alive_at(result, times, agents)
    wanted = list(dict.fromkeys(b[a] for b, u in zip(banks, up) for a in agents if u[a]))
    unknown = sum(b not in learning._evaluations for b in wanted)
    fresh = evaluate_banks(learning, scenario, wanted, progress)
    rows, per_agent = [], {a: [] for a in agents}
    for now, bank, alive in zip(times, banks, up):
        accs = [learning._evaluations[bank[a]].accuracy for a in agents if alive[a]]
        rows.append({"time_s": now, "mean": float(np.mean(accs)) if accs else None,
                     "min": min(accs) if accs else None, "max": max(accs) if accs else None, "up": len(accs)})
        for a in agents:
            per_agent[a].append(learning._evaluations[bank[a]].accuracy if alive[a] else None)
    auc = area(times, [r["mean"] if r["mean"] is not None else 0.0 for r in rows])
    out: dict[str, Any] = {
        "agents": "all" if not isinstance(spec.agents, AgentSample) else agents,
        "checkpoints": rows,
        "auc": auc,
        "auc_span_s": [times[0], times[-1]],
        "distinct_banks": len(wanted),
        "evaluated_banks": fresh,
        "recalled_banks": unknown - fresh,  # found on disk: evaluated by an earlier run or cell
        "wall_s": time.perf_counter() - start,
    }
    if spec.per_agent:
        out["per_agent"] = {str(a): values for a, values in per_agent.items()}
    return out


def evaluate_banks(learning: Learning, scenario: Scenario, banks: list[frozenset[int]], progress: Progress) -> int:
    """Put an evaluation of every bank in `banks` into the learning's store (those not there yet);
    return how many were computed."""
    from agents import bank_scores
    from sim.experiment import learned

    missing, cache = learned.recall(learning, scenario, banks, progress)  # evaluated before, by any run or cell
    progress("checkpoints_evaluating", total=len(missing))
    if not missing:
        return 0
    if bank_scores.supports(scenario.learner):
        packages = {tid: r.package for tid, r in learning.learned.items()}  # runner.learning_of: this run's packages
        scorer = bank_scores.BankScorer(learning.backbone, scenario.learner, learning.features, learning.suite,
                                        packages)
        for bank in missing:
            learning._evaluations[bank] = scorer.evaluate(bank)
            cache.put(bank, learning._evaluations[bank])
            progress("checkpoint_evaluated", tasks=len(bank))
        return len(missing)
    learned.evaluate_with_agents(learning, scenario, missing, cache, progress, event="checkpoint_evaluated")
    return len(missing)
