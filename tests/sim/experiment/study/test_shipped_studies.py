"""Every shipped study is valid, and each varies only what it says it studies."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.experiment.study.cells import expand
from sim.experiment.study.spec import load_study

STUDIES = Path(__file__).resolve().parents[4] / "scenarios" / "studies"


@pytest.mark.parametrize("path", sorted(STUDIES.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_study_is_valid(path):
    cells = expand(load_study(path))
    assert cells and len({c.key for c in cells}) == len(cells)


def test_the_three_studies_the_readme_names_are_shipped():
    assert {p.stem for p in STUDIES.glob("*.yaml")} >= {"topology_alpha", "failures", "scaling", "tiny_grid"}


def test_topology_alpha_varies_only_topology_alpha_and_seed():
    cells = expand(load_study(STUDIES / "topology_alpha.yaml"))
    assert len(cells) == 5 * 5 * 5
    assert {c.scenario.topology.family for c in cells} == {"ring", "star", "small_world", "full", "grid"}
    assert {c.scenario.gossip.protocol for c in cells} == {"flood"}
    assert {(c.scenario.network.mode, c.scenario.network.sharing) for c in cells} == {("alpha", "maxmin")}
    fixed = [c.scenario.model_dump(mode="json", exclude={"topology": {"family"}, "alpha": True, "seed": True})
             for c in cells]
    assert all(f == fixed[0] for f in fixed)


def test_failures_and_scaling_cover_their_ranges():
    failures = expand(load_study(STUDIES / "failures.yaml"))
    assert {c.scenario.failures.agents.random.keep_bank for c in failures} == {True, False}
    assert len({c.scenario.failures.agents.random.mtbf_s for c in failures}) >= 3
    assert len({c.scenario.topology.family for c in failures}) == 2
    scaling = expand(load_study(STUDIES / "scaling.yaml"))
    counts = {c.scenario.agents.count for c in scaling}
    assert min(counts) == 4 and max(counts) == 102
    assert {c.scenario.tasks.num_tasks for c in scaling} == {102}


def test_competence_ranks_topologies_over_one_span():
    cells = expand(load_study(STUDIES / "competence.yaml"))
    assert {c.scenario.topology.family for c in cells} == {"ring", "star", "small_world", "full", "grid"}
    assert {c.scenario.evaluation.times(c.scenario.evaluation.until_s)[-1] for c in cells} == {1.0}
    assert {len(c.scenario.evaluation.times(123.0)) for c in cells} == {21}  # until_s, not the makespan, ends it
