"""Co-simulation end to end on real (small) learning: reuse on asks the learner as each task starts
and evaluates the run's own packages; reuse off is today's path, untouched."""

import copy
from dataclasses import replace

import pytest

from agents.config import LearnerConfig, ReuseConfig
from agents.learner import ResultStore
from sim.experiment import runner
from sim.experiment.evaluation_config import EvaluationSection
from sim.experiment.loading import validate_scenario

SMALL = {
    "name": "cosim_small",
    "seed": 0,
    "agents": {"count": 2, "rate_macs_per_s": 5.0e10},
    "tasks": {"suite": "mixed", "num_tasks": 4, "train_per_class": 10, "test_per_class": 4},
    "learner": {"backbone": {"image_size": 32}, "mapper": {"kind": "gmmc", "k": 2}, "head": {"epochs": 12, "patience": 3},
                "reuse": {"enabled": True, "match": "visual"}},
    "topology": {"family": "ring"},
    "network": {"mode": "alpha"},
    "alpha": 1000,
}


def scenario(**learner):
    raw = copy.deepcopy(SMALL)
    raw["learner"].update(learner)
    return validate_scenario(raw)


def comparable(results: dict) -> dict:
    """results without the wall-clock fields (they measure this machine, not the run)."""
    out = {k: v for k, v in results.items() if k not in ("learning", "simulation")}
    out["simulation"] = {k: v for k, v in results["simulation"].items() if k != "wall_s"}
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cosim-cache")
    sc = scenario()
    first = runner.prepare(sc, cache_dir=cache)
    a = runner.run_alpha(first, 1000.0)
    again = runner.prepare(sc, cache_dir=cache)  # a fresh process's view: lessons come from the cache
    b = runner.run_alpha(again, 1000.0)
    off = runner.prepare(scenario(reuse={"enabled": False}), cache_dir=cache)
    return first, a, b, off, runner.run_alpha(off, 1000.0)


def test_reuse_on_asks_the_learner_as_each_task_starts(runs):
    prepared, (results, raw), _, _, _ = runs
    assert raw.engine == "simpy"
    assert len(raw.lessons) == 4  # each agent's two tasks, each asked once
    first_two = [lesson for lesson in raw.lessons if lesson[0] == 0.0]
    assert len(first_two) == 2  # both agents start at t = 0 with empty banks
    section = results["reuse"]
    assert all(r["bank"] == 0 and r["matched"] == 0 for r in section["per_lesson"] if r["start_s"] == 0.0)
    # the second tasks start after the first ones have crossed the link: visual matching finds rows
    later = [r for r in section["per_lesson"] if r["start_s"] > 0]
    assert later and all(r["bank"] >= 1 for r in later)
    assert section["tasks_reused"] >= 1
    # the engine charged what the lessons cost
    assert results["teacher_macs"] == sum(r["macs"] for r in section["per_lesson"])


def test_the_run_evaluates_the_packages_its_lessons_made(runs):
    prepared, (results, raw), _, _, _ = runs
    run_learning = runner.learning_of(prepared, raw)
    reused = [r["task"] for r in results["reuse"]["per_lesson"] if r["matched"]]
    for task in reused:
        assert run_learning.learned[task].package != prepared.learning.learned[task].package
    untouched = [r["task"] for r in results["reuse"]["per_lesson"] if not r["matched"]]
    for task in untouched:
        assert run_learning.learned[task] is prepared.learning.learned[task]


def test_train_plain_learns_the_reused_tasks_apart_from_normalised_ones(runs):
    """reuse.train reaches the head: the same matches give another package, under its own key."""
    prepared, (results, raw), _, _, _ = runs
    plain = runner.prepare(scenario(reuse={**SMALL["learner"]["reuse"], "train": "plain"}),
                           cache_dir=prepared.learning.features.root)
    plain_results, plain_raw = runner.run_alpha(plain, 1000.0)
    normalised, plain_learning = runner.learning_of(prepared, raw), runner.learning_of(plain, plain_raw)
    matched = {r["task"]: r["matches"] for r in results["reuse"]["per_lesson"] if r["matched"]}
    plain_matched = {r["task"]: r["matches"] for r in plain_results["reuse"]["per_lesson"] if r["matched"]}
    same = [t for t in matched if plain_matched.get(t) == matched[t]]
    assert same  # the first reused lessons see the same banks, so the same matches
    for task in same:
        assert plain_learning.learned[task].package != normalised.learned[task].package


def test_co_simulated_runs_are_deterministic(runs):
    _, (a, _), (b, _), _, _ = runs
    assert comparable(a) == comparable(b)


def test_reuse_off_is_the_decoupled_path(runs):
    _, _, _, off, (results, raw) = runs
    assert off.colearner is None and raw.lessons == []
    assert "reuse" not in results
    assert results["teacher_macs"] == sum(r.total_macs for r in off.learning.learned.values())


def test_a_task_learned_from_scratch_shares_its_cache_entry_with_reuse_off(runs):
    prepared = runs[0]
    store = ResultStore(prepared.learning.features.root / "results")
    task = prepared.learning.suite.tasks[0]
    on = prepared.scenario.learner
    off = LearnerConfig.model_validate({**on.model_dump(mode="json"), "reuse": ReuseConfig().model_dump()})
    assert on.reuse.enabled and not off.reuse.enabled
    assert store.key(task, prepared.learning.backbone, on, 1) == store.key(task, prepared.learning.backbone, off, 1)


def test_checkpoints_of_a_co_simulated_run_score_its_own_packages(runs):
    """The timeline reads the run's packages (runner.learning_of), not the up-front ones: its last
    checkpoint, at the makespan, is the run's final evaluation."""
    prepared, (results, _), _, _, _ = runs
    assert results["reuse"]["tasks_reused"] >= 1  # some packages differ from the up-front ones
    sc = prepared.scenario.model_copy(update={"evaluation": EvaluationSection(checkpoints=[results["makespan_s"]])})
    timed, _ = runner.run_alpha(replace(prepared, scenario=sc), 1000.0)
    last = timed["accuracy_over_time"]["checkpoints"][-1]
    accs = [p["accuracy"] for p in results["per_agent"]]
    assert last["time_s"] == results["makespan_s"]
    assert (last["mean"], last["min"], last["max"]) == (results["accuracy"], min(accs), max(accs))


def crashed_during_second_lesson(runs, keep_bank: bool):
    """The co-simulated run again with agent 1 crashing a third of the way into its second lesson
    and back half way through it (before agent 0's first package reaches it): results and raw."""
    prepared, (_, raw), _, _, _ = runs
    start, end = next(t for t, a, *_ in raw.lessons if a == 1 and t > 0), float(raw.known_at[1, prepared.assignment[1][1]])
    crash = {"agent": 1, "at_s": start + (end - start) / 3, "recover_at_s": start + (end - start) / 2,
             "keep_bank": keep_bank}
    assert raw.known_at[1, prepared.assignment[0][0]] > crash["recover_at_s"]  # agent 0's package comes later
    sc = prepared.scenario.model_copy(update={"failures": validate_scenario(
        {**SMALL, "failures": {"agents": {"scheduled": [crash]}}}).failures})
    return replace(prepared, scenario=sc, colearner=replace(prepared.colearner, scenario=sc, records=[])), crash


@pytest.mark.parametrize("keep_bank", [False, True])
def test_a_crash_during_a_lesson_asks_again_with_the_bank_then(runs, keep_bank):
    crashed, crash = crashed_during_second_lesson(runs, keep_bank)
    results, raw = runner.run_alpha(crashed, 1000.0)
    first_task, second_task = crashed.assignment[1]
    mine = [r for r in results["reuse"]["per_lesson"] if r["agent"] == 1]
    assert [(r["task"], r["completed"]) for r in mine] == [(first_task, True), (second_task, False), (second_task, True)]
    interrupted, again = mine[1], mine[2]
    assert again["start_s"] == crash["recover_at_s"] and interrupted["bank"] == 1 and interrupted["matched"] >= 1
    run_learning = runner.learning_of(crashed, raw)
    if keep_bank:  # its own first task kept: the same matches, the same (reused) package
        assert (again["bank"], again["matches"]) == (1, interrupted["matches"])
        assert run_learning.learned[second_task].package != crashed.learning.learned[second_task].package
    else:  # wiped: nothing received or learned before the wipe is reused; learned from scratch
        assert (again["bank"], again["matched"]) == (0, 0)
        assert run_learning.learned[second_task] is crashed.learning.learned[second_task]
    assert results["reuse"]["interrupted"] == 1 and results["reuse"]["lessons"] == 4
    assert results["teacher_macs"] == sum(r["macs"] for r in results["reuse"]["per_lesson"] if r["completed"])
    assert results["reuse_tasks"] == sum(1 for r in results["reuse"]["per_lesson"] if r["completed"] and r["matched"])
    twice, _ = runner.run_alpha(crashed, 1000.0)
    assert comparable(twice) == comparable(results)


def test_each_lesson_is_told_to_the_progress_as_it_is_asked_for(runs):
    """The progress hears of every lesson before it is learned (a head may take seconds while the
    simulated clock stands still) and when it is answered, in the engine's order of asking."""
    told = []

    def progress(name, /, **fields):
        if name.startswith("lesson"):
            told.append((name, fields))

    results, raw = runner.run_alpha(runs[0], 1000.0, progress=progress)
    assert [name for name, _ in told] == ["lesson_started", "lesson_done"] * len(raw.lessons)
    started = [f for name, f in told if name == "lesson_started"]
    assert [(f["agent"], f["task"]) for f in started] == [(agent, task) for _, agent, task, _ in raw.lessons]
    assert [f["bank"] for f in started] == [r["bank"] for r in results["reuse"]["per_lesson"]]
