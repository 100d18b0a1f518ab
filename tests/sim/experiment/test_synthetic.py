"""Cost-only scenarios (`workload: {kind: synthetic}`): closed-form makespans and efficiencies of
small cases counted by hand, seeded cost draws, every protocol, failure model and topology, the
compiled loops, `run` and `sweep` without torch, and speedup_bound for the survivors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.experiment import runner
from sim.experiment.cli import main
from sim.experiment.loading import validate_scenario
from topologies.registry import list_families

ROOT = Path(__file__).resolve().parents[3]

# Rate 1e6 MACs/s and alpha 1000 in alpha mode: links carry 1000 B/s, so a 1000-byte package takes
# 1 s, and a task of 2e6 MACs takes 2 s to learn. Every expected time below is counted from these.
RATE, ALPHA, PACKAGE, TEACHER = 1e6, 1000.0, 1000, 2e6


def scenario(n: int = 4, workload: dict | None = None, **sections) -> object:
    """A synthetic scenario of `n` agents on a full graph, broadcast, alpha mode, no latency."""
    raw = {
        "name": "syn",
        "agents": {"count": n, "rate_macs_per_s": RATE},
        "workload": workload or {"kind": "synthetic", "tasks": n, "teacher_macs": TEACHER, "package_bytes": PACKAGE},
        "topology": {"family": "full", "links": {"latency": 0}},
        "network": {"mode": "alpha", "serial_receive": True},
        "gossip": {"protocol": "broadcast"},
        "alpha": ALPHA,
        "output": {"plots": False},
    }
    raw.update(sections)
    return validate_scenario(raw)


def run(sc, alpha: float = ALPHA) -> dict:
    """One simulation of a scenario, as `skill-sim run` does it (in this process)."""
    return runner.run_alpha(runner.prepare(sc), alpha)[0]


# ---------------------------------------------------------------- closed forms


def test_serial_receive_of_broadcasts_takes_learning_plus_one_package_time_per_other_agent():
    # 4 agents learn 2 s each, then each student takes the other 3 packages one at a time, 1 s each.
    r = run(scenario(4))
    assert r["makespan_s"] == pytest.approx(2 + 3 * 1.0, rel=1e-12)
    assert r["single_agent_s"] == pytest.approx(4 * 2.0, rel=1e-12)
    assert r["efficiency"] == pytest.approx(8 / 5 / 4, rel=1e-12)
    assert r["bytes_sent"] == 4 * 3 * PACKAGE
    assert r["accuracy"] is None and r["mapper_accuracy"] is None and r["oracle_accuracy"] is None
    assert "synthetic" in r["evaluation"] and r["workload"] == "synthetic"
    assert r["per_task_accuracy"] == {} and all(p["accuracy"] is None for p in r["per_agent"])


def test_without_serial_receive_the_packages_arrive_together():
    r = run(scenario(4, network={"mode": "alpha"}))
    assert r["makespan_s"] == pytest.approx(2 + 1.0, rel=1e-12)


def test_student_merges_queue_behind_the_arrivals():
    # arrivals at 3, 4, 5 s (serial); each merge takes 5e5 / 1e6 = 0.5 s on its own pipeline: the
    # last ends at 5.5 s.
    wl = {"kind": "synthetic", "tasks": 4, "teacher_macs": TEACHER, "package_bytes": PACKAGE, "student_macs": 5e5}
    r = run(scenario(4, workload=wl))
    assert r["makespan_s"] == pytest.approx(5.5, rel=1e-12)
    assert r["student_macs"] == 4 * 3 * 5e5


def test_merges_landing_together_pay_the_per_batch_part_once():
    # no serial receive: each agent's 3 packages land at 3 s together: one batch of
    # 1e6 + 3 x 5e5 MACs = 2.5 s, done at 5.5 s; four batches in all
    wl = {"kind": "synthetic", "tasks": 4, "teacher_macs": TEACHER, "package_bytes": PACKAGE,
          "student_macs": 5e5, "student_batch_macs": 1e6}
    r = run(scenario(4, workload=wl, network={"mode": "alpha"}))
    assert r["makespan_s"] == pytest.approx(5.5, rel=1e-12)
    assert r["student_macs"] == 4 * (1e6 + 3 * 5e5)
    assert r["simulation"]["engine"] == "simpy"


def test_merges_landing_apart_pay_it_each_and_those_landing_while_busy_wait():
    # serial receive: landing at 3, 4, 5 s; the first batch (1.5e6 MACs) runs 3 -> 4.5, the second
    # package lands meanwhile and starts at 4.5 (-> 6), the third lands after that batch started,
    # so it waits for it: 6 -> 7.5. Three batches per agent; the paper's closed form agrees.
    wl = {"kind": "synthetic", "tasks": 4, "teacher_macs": TEACHER, "package_bytes": PACKAGE,
          "student_macs": 5e5, "student_batch_macs": 1e6}
    r = run(scenario(4, workload=wl))
    assert r["makespan_s"] == pytest.approx(7.5, rel=1e-12)
    assert r["student_macs"] == 4 * 3 * 1.5e6
    assert r["accounting"]["paper"]["student_macs"] == pytest.approx(3 * 1.5e6, rel=1e-12)


def test_the_accounting_is_the_papers_formula_and_matches_a_serial_replay():
    r = run(scenario(4))
    paper, ours = r["accounting"]["paper"], r["accounting"]["skill_sim"]
    # per agent: teacher 2e6, 3 packages of 1000 B received, total 2e6 + 1000 x 3000 = 5e6 MACs
    assert paper["teacher_macs"] == 2e6 and paper["bytes_per_student"] == 3000 and paper["student_macs"] == 0
    assert paper["total_macs"] == 5e6
    assert paper["efficiency"] == pytest.approx(8e6 / (4 * 5e6), rel=1e-12)
    assert ours["bytes_per_student"] == 3000 and ours["total_macs"] == 5e6
    assert ours["efficiency"] == pytest.approx(paper["efficiency"], rel=1e-12)  # serial receive: the same


def test_an_explicit_task_list_keeps_owners_order_and_costs():
    # agent 0 learns 1 s then 3 s; agent 1 learns 2 s; agent 2 nothing. Broadcast without NIC limits:
    # agent 0's second package (published at 4 s) lands at 4 + 2 s (2000 bytes at 1000 B/s).
    tasks = [{"owner": 0, "macs": 1e6, "bytes": 1000}, {"owner": 1, "macs": 2e6, "bytes": 500},
             {"owner": 0, "macs": 3e6, "bytes": 2000}]
    r = run(scenario(3, workload={"kind": "synthetic", "tasks": tasks}, network={"mode": "alpha"}))
    assert [p["learns"] for p in r["per_agent"]] == [[0, 2], [1], []]
    assert r["makespan_s"] == pytest.approx(6.0, rel=1e-12)
    assert r["single_agent_s"] == pytest.approx(6.0, rel=1e-12)
    assert r["speedup_bound"] == pytest.approx(6.0 / 4.0, rel=1e-12)  # agent 0 is busy 4 s
    assert r["learning"]["package_bytes_total"] == 3500 and r["learning"]["backbone"] is None


def test_a_count_of_tasks_is_dealt_by_the_assignment_rule():
    wl = {"kind": "synthetic", "tasks": 6, "teacher_macs": TEACHER, "package_bytes": PACKAGE}
    blocks = runner.prepare(scenario(3, workload=wl, agents={"count": 3, "rate_macs_per_s": RATE,
                                                            "assignment": {"kind": "blocks"}}))
    assert blocks.assignment == [[0, 1], [2, 3], [4, 5]]
    default = runner.prepare(scenario(3, workload=wl))
    assert default.assignment == [[0, 3], [1, 4], [2, 5]]  # round robin


# ---------------------------------------------------------------- seeded distributions


def _costs(seed: int, **costs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    wl = {"kind": "synthetic", "tasks": 200, "teacher_macs": TEACHER, "package_bytes": PACKAGE, **costs}
    w = runner.prepare(scenario(4, workload=wl, seed=seed)).workload
    return w.column("macs"), w.column("nbytes"), w.column("student_macs")


def test_drawn_costs_follow_their_distribution_and_the_seed():
    spec = {"teacher_macs": {"dist": "uniform", "low": 1e6, "high": 3e6},
            "package_bytes": {"dist": "choice", "values": [500, 813000]},
            "student_macs": {"dist": "lognormal", "mean": 1e5, "sigma": 0.5}}
    macs, nbytes, student = _costs(1, **spec)
    assert 1e6 <= macs.min() and macs.max() <= 3e6 and len(set(macs)) > 150
    assert set(nbytes) == {500, 813000}
    assert student.mean() == pytest.approx(1e5, rel=0.15)  # the mean of the values, not of their logs
    again = _costs(1, **spec)
    assert all((a == b).all() for a, b in zip((macs, nbytes, student), again))
    assert not (_costs(2, **spec)[0] == macs).all()


def test_a_normal_draw_is_clipped_at_the_fields_floor():
    _, nbytes, _ = _costs(0, package_bytes={"dist": "normal", "mean": 1, "std": 100})
    assert nbytes.min() == 1  # a package has at least one byte


# ---------------------------------------------------------------- speedup_bound


def test_a_hub_crashing_before_it_shares_leaves_no_bound():
    # star: every leaf's package goes through the hub, which dies at 0.5 s, before its first task is
    # learned: the leaves never learn each other's tasks, so no speedup and no bound exist
    sc = scenario(4, topology={"family": "star", "links": {"latency": 0}}, gossip={"protocol": "flood"},
                  failures={"agents": {"scheduled": [{"agent": 0, "at_s": 0.5}]}})
    r = run(sc)
    assert r["makespan_s"] is None and r["speedup"] is None
    assert r["speedup_bound"] is None and r["speedup_bound_never"] is True


def test_the_bound_counts_the_survivors_only():
    # agent 3's 6 s task is lost (it dies at 1 s); survivors learn 2 s each and receive 2 packages
    # serially: makespan 4 s, speedup 12 / 4 = 3. The bound is 12 / 2 = 6 (not 12 / 6 = 2 < 3).
    tasks = [{"owner": a, "macs": m, "bytes": PACKAGE} for a, m in enumerate((2e6, 2e6, 2e6, 6e6))]
    sc = scenario(4, workload={"kind": "synthetic", "tasks": tasks},
                  failures={"agents": {"scheduled": [{"agent": 3, "at_s": 1.0}]}})
    r = run(sc)
    assert r["makespan_s"] == pytest.approx(4.0, rel=1e-12)
    assert r["speedup"] == pytest.approx(3.0, rel=1e-12)
    assert r["speedup_bound"] == pytest.approx(6.0, rel=1e-12) and r["speedup_bound_never"] is False


def test_the_summary_says_never_for_a_run_that_cannot_complete(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # one table row a line
    path = tmp_path / "hub.yaml"
    path.write_text(_yaml(4) + "topology: {family: star, links: {latency: 0}}\ngossip: {protocol: flood}\n"
                    "failures: {agents: {scheduled: [{agent: 0, at_s: 0.5}]}}\n")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "never with free communication" in out
    assert "skipped: synthetic workload" in out


# ---------------------------------------------------------------- every protocol, failure, topology

FAILURES = {
    "none": {},
    "crash-recover": {"agents": {"scheduled": [{"agent": 1, "at_s": 1.0, "recover_at_s": 4.0}]}},
    "crash-wipe": {"agents": {"scheduled": [{"agent": 1, "at_s": 3.0, "recover_at_s": 4.0, "keep_bank": False}]},
                   "relearn_after_wipe": True},
    "random-agents": {"agents": {"random": {"mtbf_s": 5.0, "mttr_s": 1.0}}, "horizon_s": 60.0},
    "link-outage": {"links": {"scheduled": [{"edge": [0, 1], "start_s": 0.0, "end_s": 5.0}]}},
    "random-links": {"links": {"random": {"mtbf_s": 3.0, "mttr_s": 1.0}}, "horizon_s": 60.0},
    "partition": {"partitions": [{"edges": [[0, 1], [0, 2]], "start_s": 1.0, "end_s": 6.0}]},
}
PROTOCOLS = {"broadcast": {"protocol": "broadcast"}, "flood": {"protocol": "flood"},
             "push": {"protocol": "push", "fanout": 2}, "push_pull": {"protocol": "push_pull", "period_s": 0.5}}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("protocol", sorted(PROTOCOLS))
def test_every_protocol_and_failure_model_runs_on_a_synthetic_workload(protocol, failure):
    sc = scenario(5, gossip=PROTOCOLS[protocol], failures=FAILURES[failure], network={"mode": "alpha"})
    r = run(sc)
    assert r["tasks"] == 5 and r["accuracy"] is None and "evaluation" in r
    assert r["teacher_macs"] >= 5 * TEACHER  # a wiped owner may relearn
    assert 0 < r["coverage_final"] <= 1
    if r["makespan_s"] is not None:
        assert r["makespan_s"] >= 2.0 and r["speedup"] <= r["speedup_bound"] + 1e-9
    else:
        assert r["speedup_bound_never"]


@pytest.mark.parametrize("family", [f for f in list_families() if f != "file"])
def test_every_topology_runs_on_a_synthetic_workload(family):
    params = {"erdos_renyi": {"p": 0.6}, "random_regular": {"d": 4}}.get(family, {})
    sc = scenario(9, topology={"family": family, "params": params, "links": {"latency": 0.01}},
                  gossip={"protocol": "flood"}, network={"mode": "alpha"})
    r = run(sc)
    assert r["coverage_final"] == 1.0 and r["makespan_s"] > 2.0


@pytest.mark.parametrize("protocol", ["flood", "broadcast", "push_pull"])
def test_the_compiled_loops_give_the_simpy_answer_on_a_synthetic_workload(protocol):
    wl = {"kind": "synthetic", "tasks": 12, "teacher_macs": {"dist": "uniform", "low": 1e6, "high": 4e6},
          "package_bytes": {"dist": "uniform", "low": 100, "high": 3000}}
    common = dict(workload=wl, gossip=PROTOCOLS[protocol], network={"mode": "alpha"},
                  topology={"family": "full", "links": {"latency": 0.01}})
    simpy_run = run(scenario(6, engine="simpy", **common))
    compiled = run(scenario(6, engine="compiled", **common))
    assert compiled["simulation"]["engine"] == "compiled"
    assert compiled["makespan_s"] == pytest.approx(simpy_run["makespan_s"], rel=1e-12)
    assert compiled["bytes_sent"] == simpy_run["bytes_sent"]


# ---------------------------------------------------------------- the CLI: run and sweep without torch


def _yaml(n: int, extra: str = "") -> str:
    return (f"name: syn\nagents: {{count: {n}, rate_macs_per_s: {RATE}}}\n"
            f"workload: {{kind: synthetic, tasks: {n}, teacher_macs: {TEACHER}, package_bytes: {PACKAGE}}}\n"
            "network: {mode: alpha, serial_receive: true}\noutput: {plots: false}\n" + extra)


@pytest.mark.parametrize("command", [["run"], ["sweep", "--alpha", "10,1000,1e5"]], ids=lambda c: c[0])
def test_run_and_sweep_of_a_synthetic_workload_never_import_torch(command, tmp_path):
    path = tmp_path / "syn.yaml"
    path.write_text(_yaml(4, "topology: {family: full, links: {latency: 0}}\ngossip: {protocol: broadcast}\n"))
    argv = [command[0], str(path), "--out", str(tmp_path / "out"), "--quiet", *command[1:]]
    code = ("import sys, json\nfrom sim.experiment.cli import main\n"
            f"rc = main({argv!r})\n"
            "print(json.dumps([rc, sorted(m for m in ('torch', 'timm', 'sklearn') if m in sys.modules)]), file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert json.loads(done.stderr.strip().splitlines()[-1]) == [0, []], done.stderr


def test_a_sweep_of_a_synthetic_workload_follows_the_closed_form(tmp_path, capsys):
    path = tmp_path / "syn.yaml"
    path.write_text(_yaml(4, "topology: {family: full, links: {latency: 0}}\ngossip: {protocol: broadcast}\n"))
    assert main(["sweep", str(path), "--alpha", "10,1000,1e5", "--out", str(tmp_path / "sw"), "--json"]) == 0
    rows = {r["alpha"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    for alpha, row in rows.items():  # 2 s learning, then 3 packages of 1000 B at rate / alpha, in turn
        assert row["makespan_s"] == pytest.approx(2 + 3 * 1000 * alpha / RATE, rel=1e-12)
        assert row["speedup_bound"] == pytest.approx(4.0, rel=1e-12)


def test_a_synthetic_runs_resolved_scenario_runs_again_and_validate_prints_one_that_does(tmp_path, capsys):
    """scenario.yaml and `validate`'s YAML leave out tasks and learner, which a synthetic workload
    replaces (given beside it they are refused): both load back to the same run."""
    path = tmp_path / "syn.yaml"
    path.write_text(_yaml(4, "topology: {family: full, links: {latency: 0}}\ngossip: {protocol: broadcast}\n"))
    assert main(["run", str(path), "--out", str(tmp_path / "a"), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(["run", str(tmp_path / "a" / "scenario.yaml"), "--out", str(tmp_path / "b"), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["makespan_s"] == first["makespan_s"] == pytest.approx(2 + 3 * 1000 * ALPHA / RATE, rel=1e-12)
    assert main(["validate", str(path)]) == 0
    printed = tmp_path / "printed.yaml"
    printed.write_text(capsys.readouterr().out)
    import yaml

    assert {"tasks", "learner"}.isdisjoint(yaml.safe_load(printed.read_text())) and "workload" in printed.read_text()
    assert main(["validate", str(printed), "--quiet"]) == 0


# ---------------------------------------------------------------- the paper's Table 2


def _paper(name: str, *overrides: str):
    from sim.experiment.loading import load_scenario

    return load_scenario(ROOT / "scenarios" / f"{name}.yaml", overrides)


def test_the_papers_accounting_of_table_2_from_its_own_inputs():
    from sim.experiment.accounting import paper_accounting

    teacher, package = 1.73e16 / 102, 813_000
    sc = _paper("paper_table2")
    row = paper_accounting(runner.prepare(sc).workload, 102, 1000.0)
    assert row["teacher_macs"] == pytest.approx(teacher, rel=1e-12)
    assert row["bytes_per_student"] == pytest.approx(101 * package, rel=1e-12)
    assert row["total_macs"] == pytest.approx(teacher + 1000 * 101 * package, rel=1e-12)
    assert round(row["efficiency"], 6) == 0.999516  # serial receive of 101 packages
    # the paper prints 0.99999519, which only one package per student gives:
    assert round(1 / (1 + 1000 * package / teacher), 8) == 0.99999521
    half = paper_accounting(runner.prepare(_paper("paper_table2_51")).workload, 51, 1000.0)
    assert half["teacher_macs"] == pytest.approx(2 * teacher, rel=1e-12)
    assert half["bytes_per_student"] == pytest.approx(100 * package, rel=1e-12)


def test_the_mahalanobis_variant_is_a_documented_set():
    sc = _paper("paper_table2", "workload.package_bytes=1.74e6", "workload.student_macs=5e9")
    w = runner.prepare(sc).workload
    assert set(w.column("nbytes")) == {1_740_000} and set(w.column("student_macs")) == {5e9}
    assert "workload.package_bytes=1.74e6" in (ROOT / "scenarios" / "paper_table2.yaml").read_text()


@pytest.mark.parametrize("n", [6, 17])
def test_a_smaller_table_2_replay_simulates_the_papers_formula(n):
    # serial receive in alpha mode: every student takes N - 1 packages of 813 KB at rate / 1000
    sc = _paper("paper_table2", f"agents.count={n}", f"workload.tasks={n}")
    r = run(sc, 1000.0)
    teacher = 1.73e16 / 102
    assert r["efficiency"] == pytest.approx(1 / (1 + (n - 1) * 813_000 * 1000 / teacher), rel=1e-12)
    assert r["accounting"]["paper"]["efficiency"] == pytest.approx(r["efficiency"], rel=1e-12)


@pytest.mark.slow
def test_the_full_table_2_replay_gives_0_999516():
    r = run(_paper("paper_table2"), 1000.0)
    assert round(r["efficiency"], 6) == 0.999516
