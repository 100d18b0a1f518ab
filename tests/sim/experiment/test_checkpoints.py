"""Accuracy over simulated time (the `evaluation` section): checkpoints against a final evaluation
and against agents built by hand, a crash-with-wipe dip, the AUC against a hand trapezoid, and
default runs left as they were."""

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from agents.agent import Agent
from agents import bank_scores
from agents.bank_scores import BankScorer
from sim.banks import banks_at
from sim.experiment import checkpoints, runner
from sim.experiment.evaluation_config import MAX_CHECKPOINTS, EvaluationSection
from sim.experiment.loading import load_scenario
from sim.experiment.study.tables import metrics_of

# tiny, smaller still: 6 tasks learned in seconds (cached for the session)
SMALL = ["tasks.num_tasks=6", "tasks.train_per_class=8", "tasks.test_per_class=4", "learner.head.epochs=3",
         "learner.mapper.k=2"]
# Fields that differ between any two runs: wall clock, and what the cache held when each began.
VARIES = {"wall_s", "run_id", "cached_tasks"}


def _prepared(cache, *overrides):
    return runner.prepare(load_scenario("tiny", [*SMALL, *overrides]), cache_dir=cache)


@pytest.fixture(scope="module")
def plain(cache):
    """tiny (small) with no evaluation section, and its run at alpha 1000."""
    prepared = _prepared(cache)
    return prepared, *runner.run_alpha(prepared, 1000.0)


def _agent_evaluation(learning, scenario, bank):
    """An agent built here, holding `bank`: the reference every checkpoint is held to."""
    agent = Agent(-1, learning.backbone, scenario.learner, cache=learning.features)
    for tid in sorted(bank):
        agent.receive(learning.learned[tid].package)
    return agent.evaluate(learning.suite)


def _strip(value):
    """results without the VARIES fields (nested)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VARIES}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def test_a_bank_scored_at_once_equals_an_agent_holding_it(plain):
    prepared, _, _ = plain
    learning, sc = prepared.learning, prepared.scenario
    scorer = BankScorer(learning.backbone, sc.learner, learning.features, learning.suite,
                        {t: r.package for t, r in learning.learned.items()})
    rng = np.random.default_rng(3)
    banks = [frozenset(), frozenset({2}), frozenset(range(6))]
    banks += [frozenset(rng.choice(6, size=k, replace=False).tolist()) for k in (2, 3, 4, 5)]
    for bank in banks:
        assert scorer.evaluate(bank) == _agent_evaluation(learning, sc, bank), sorted(bank)


@pytest.mark.parametrize("share", ["features", "images"])
def test_a_mahalanobis_bank_scored_with_shared_verdicts_equals_an_agent_holding_it(cache, share):
    """Mahalanobis ties one covariance over the bank: each bank's mapper is built, but the test set,
    the heads' verdicts and the exemplars' embedding are shared, and nothing else may differ."""
    prepared = _prepared(cache, f"learner.mapper={{kind: mahalanobis, m: 2, share: {share}}}")
    learning, sc = prepared.learning, prepared.scenario
    assert bank_scores.supports(sc.learner) and not bank_scores.decomposes(sc.learner)
    scorer = BankScorer(learning.backbone, sc.learner, learning.features, learning.suite,
                        {t: r.package for t, r in learning.learned.items()})
    assert scorer.scores is None
    rng = np.random.default_rng(5)
    banks = [frozenset(), frozenset({4}), frozenset(range(6))]
    banks += [frozenset(rng.choice(6, size=k, replace=False).tolist()) for k in (2, 3, 5)]
    for bank in banks:
        assert scorer.evaluate(bank) == _agent_evaluation(learning, sc, bank), sorted(bank)


def test_beneficial_biases_are_left_to_agents():
    from agents.config import LearnerConfig

    cfg = LearnerConfig.model_validate({"bb": {"enabled": True}})
    assert not bank_scores.supports(cfg) and not bank_scores.decomposes(cfg)
    with pytest.raises(ValueError, match="beneficial biases"):
        BankScorer(None, cfg, None, None, {})


def test_the_last_checkpoint_agrees_with_the_final_evaluation(cache, plain):
    prepared, final, raw = plain
    sc = prepared.scenario.model_copy(update={"evaluation": EvaluationSection(every_s=final["makespan_s"] / 7)})
    prepared.learning._evaluations = {}  # nothing shared with the final evaluation: scored afresh
    shutil.rmtree(Path(cache) / "evaluations")  # nor found on disk (agents.cache.evaluations)
    out = checkpoints.accuracy_over_time(prepared.learning, sc, raw)
    last = out["checkpoints"][-1]
    assert last["time_s"] == final["makespan_s"] and len(out["checkpoints"]) == 8
    assert last["mean"] == final["accuracy"]
    accs = [p["accuracy"] for p in final["per_agent"]]
    assert (last["min"], last["max"], last["up"]) == (min(accs), max(accs), 4)
    assert out["distinct_banks"] == out["evaluated_banks"] >= 2


def test_each_checkpoint_is_the_accuracy_of_the_bank_the_record_gives(plain):
    prepared, final, raw = plain
    learning = prepared.learning
    times = [0.0, final["makespan_s"] / 3, final["makespan_s"] / 2, 2 * final["makespan_s"]]
    sc = prepared.scenario.model_copy(update={"evaluation": EvaluationSection(checkpoints=times, per_agent=True)})
    out = checkpoints.accuracy_over_time(learning, sc, raw)
    assert [r["time_s"] for r in out["checkpoints"]] == times
    assert out["checkpoints"][0] == {"time_s": 0.0, "mean": 0.0, "min": 0.0, "max": 0.0, "up": 4}  # nothing learned yet
    for i, now in enumerate(times):
        # which packages each agent held then, from the engine's merge matrix directly
        for a in range(4):
            bank = frozenset(int(t) for t in np.flatnonzero(raw.known_at[a] <= now))
            assert out["per_agent"][str(a)][i] == _agent_evaluation(learning, sc, bank).accuracy


def test_the_auc_is_the_trapezoid_over_the_span():
    # (0, 0) (1, 0.5) (3, 1): areas 0.25 and 1.5 over a span of 3
    assert checkpoints.area([0.0, 1.0, 3.0], [0.0, 0.5, 1.0]) == pytest.approx(1.75 / 3)
    assert checkpoints.area([2.0], [0.4]) == 0.4


def test_the_run_reports_the_auc_of_its_checkpoints_and_studies_see_it(cache, plain):
    _, final, _ = plain
    prepared = _prepared(cache, f"evaluation={{every_s: {final['makespan_s'] / 5!r}}}")
    results, _ = runner.run_alpha(prepared, 1000.0)
    rows = results["accuracy_over_time"]["checkpoints"]
    times, means = [r["time_s"] for r in rows], [r["mean"] for r in rows]
    by_hand = sum((t1 - t0) * (m0 + m1) / 2 for t0, t1, m0, m1 in zip(times, times[1:], means, means[1:]))
    assert results["accuracy_auc"] == pytest.approx(by_hand / final["makespan_s"], rel=1e-12)
    assert 0 < results["accuracy_auc"] < final["accuracy"]  # rises from 0 to the final accuracy
    assert metrics_of(results)["accuracy_auc"] == results["accuracy_auc"]
    assert metrics_of(final)["accuracy_auc"] is None


def test_a_crash_with_a_wiped_bank_dips_that_agent(cache, plain):
    _, final, _ = plain
    m = final["makespan_s"]
    crash = f"failures.agents.scheduled=[{{agent: 2, at_s: {0.7 * m!r}, recover_at_s: {0.75 * m!r}, keep_bank: false}}]"
    times = [0.65 * m, 0.72 * m, 0.75 * m]
    prepared = _prepared(cache, crash, f"evaluation={{checkpoints: {times!r}, per_agent: true}}")
    results, raw = runner.run_alpha(prepared, 1000.0)
    curve = results["accuracy_over_time"]["per_agent"]["2"]
    before, down, back = curve
    assert before > 0 and down is None and back == 0.0  # empty bank at the recovery: every answer wrong
    assert banks_at(raw, [0.75 * m], [2])[0][2] == frozenset()
    ups = [r["up"] for r in results["accuracy_over_time"]["checkpoints"]]
    assert ups == [4, 3, 4]


def test_sampled_agents_are_drawn_once_from_the_seed():
    spec = EvaluationSection(every_s=1.0, agents={"sample": 3})
    drawn = checkpoints.chosen_agents(spec, 10, seed=5)
    assert drawn == checkpoints.chosen_agents(spec, 10, seed=5) and len(set(drawn)) == 3
    assert all(0 <= a < 10 for a in drawn) and drawn == sorted(drawn)
    assert checkpoints.chosen_agents(EvaluationSection(every_s=1.0), 4, seed=5) == [0, 1, 2, 3]


def test_every_s_runs_from_0_to_the_end_and_closes_on_it():
    spec = EvaluationSection(every_s=0.25)
    assert spec.times(1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert spec.times(0.6) == [0.0, 0.25, 0.5, 0.6]
    assert EvaluationSection(every_s=0.5, until_s=2.0).times(100.0) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert EvaluationSection(checkpoints=[0.1, 9.0]).times(1.0) == [0.1, 9.0]


def test_without_an_evaluation_section_the_results_are_as_before(cache, plain):
    prepared, final, _ = plain
    assert "accuracy_over_time" not in final and "accuracy_auc" not in final
    with_it = _prepared(cache, "evaluation={checkpoints: [0.01]}")
    results, _ = runner.run_alpha(with_it, 1000.0)
    extra = {"accuracy_over_time", "accuracy_auc"}
    assert _strip({k: v for k, v in results.items() if k not in extra}) == _strip(final)
    assert math.isfinite(results["accuracy_auc"])


def test_an_every_s_too_fine_for_the_makespan_keeps_the_run_and_warns(cache, plain):
    """The count of checkpoints is known only once the run has ended (no until_s): too many then
    skips the timeline with a warning naming the field, and the run's results are kept."""
    _, final, _ = plain
    every = final["makespan_s"] / (2 * MAX_CHECKPOINTS)  # 2 x the limit, by construction
    events = []
    results, _ = runner.run_alpha(_prepared(cache, f"evaluation={{every_s: {every!r}}}"), 1000.0,
                                  progress=lambda kind, **kw: events.append((kind, kw)))
    assert "accuracy_over_time" not in results and results["accuracy"] == final["accuracy"]
    warnings = [kw["message"] for kind, kw in events if kind == "warning"]
    assert len(warnings) == 1 and "evaluation.every_s" in warnings[0] and "until_s" in warnings[0]


def test_a_sweep_lists_each_alphas_accuracy_auc(cache, tmp_path):
    import csv
    import json

    from sim.experiment.cli import main

    out = tmp_path / "sweep"
    argv = ["sweep", "tiny", "--alpha", "1e3,1e5", "--out", str(out), "--cache", str(cache), "--quiet"]
    assert main([*argv, *(a for s in SMALL for a in ("--set", s)), "--set", "evaluation.every_s=0.05"]) == 0
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert len(rows) == 2
    for row in rows:
        (run,) = [json.loads(p.read_text()) for p in out.glob("alpha-*/results.json")
                  if json.loads(p.read_text())["alpha"] == float(row["alpha"])]
        assert float(row["accuracy_auc"]) == pytest.approx(run["accuracy_auc"], rel=1e-12)


def test_a_rerun_finds_every_bank_on_disk_and_a_damaged_entry_is_evaluated_again(cache, plain):
    """agents.cache.evaluations through a run: the first run scores its banks and stores them, a
    second run (a new process's view: a new Learning) scores none, and a damaged entry is reported,
    dropped and scored again; the results are the same every time."""
    _, final, _ = plain
    every = f"evaluation={{every_s: {final['makespan_s'] / 6!r}}}"
    shutil.rmtree(Path(cache) / "evaluations", ignore_errors=True)

    def run():
        events = []
        results, raw = runner.run_alpha(_prepared(cache, every), 1000.0,
                                        progress=lambda name, **fields: events.append((name, fields)))
        scored = sum(name in ("evaluated", "checkpoint_evaluated") for name, _ in events)
        return results, raw, scored, [f["message"] for name, f in events if name == "warning"]

    first, raw, scored, warnings = run()
    times = [r["time_s"] for r in first["accuracy_over_time"]["checkpoints"]]
    at_checkpoints = {bank for banks in banks_at(raw, times, range(4)) for bank in banks.values()}
    at_end = {frozenset(raw.bank(a)) for a in range(4)}
    assert scored == len(at_checkpoints | at_end) and warnings == []  # each distinct bank once
    entries = sorted((Path(cache) / "evaluations").glob("*.eval"))
    assert len(entries) == scored  # one entry per bank scored, final and checkpoints alike
    again, _, rescored, warnings = run()
    assert rescored == 0 and warnings == []
    timeline = again["accuracy_over_time"]
    # the final evaluation recalled the end banks first; the checkpoints recall the rest
    assert (timeline["evaluated_banks"], timeline["recalled_banks"]) == (0, len(at_checkpoints - at_end))
    same = lambda r: _strip({**r, "accuracy_over_time": {k: v for k, v in r["accuracy_over_time"].items()  # noqa: E731
                                                          if k not in ("evaluated_banks", "recalled_banks")}})
    assert same(again) == same(first)
    damaged = entries[0]
    data = damaged.read_bytes()
    damaged.write_bytes(data.replace(b"0.", b"1.", 1))  # same size, another number
    third, _, rescored, warnings = run()
    assert rescored == 1 and len(warnings) == 1 and str(damaged) in warnings[0] and "checksum" in warnings[0]
    assert same(third) == same(first)
    assert damaged.read_bytes() == data  # stored again, as it was
