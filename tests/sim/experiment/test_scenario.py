"""The scenario schema and its loader: shipped scenarios validate, bad input names file, field, fix."""

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.experiment.loading import apply_override, load_scenario, parse_yaml, shipped_scenarios
from sim.experiment.scenario import Scenario

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_the_required_scenarios_are_shipped():
    names = {p.name for p in SHIPPED}
    assert {"ring_51.yaml", "full_51.yaml", "full_51_paper.yaml", "star_51.yaml", "smallworld_51.yaml",
            "ring_51_failures.yaml", "ring_51_bb.yaml", "tiny.yaml"} <= names
    assert len(shipped_scenarios()) == len(SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path, skill102_dir):
    scenario = load_scenario(path)
    assert scenario.agents.count >= 1
    assert scenario.alphas and all(a > 0 for a in scenario.alphas)


def test_ring_51_is_the_main_experiment():
    s = load_scenario(ROOT / "scenarios/ring_51.yaml")
    assert (s.agents.count, s.tasks.num_tasks, s.topology.family) == (51, 102, "ring")
    assert s.tasks.suite == "distinct" and s.learner.backbone.weights == "offline"
    assert s.learner.mapper.kind == "gmmc" and not s.learner.bb.enabled


def _resolved(name):
    return load_scenario(ROOT / "scenarios" / f"{name}.yaml").model_dump(mode="json")


@pytest.mark.parametrize("name", ["star_51", "smallworld_51", "full_51"])
def test_the_51_agent_topologies_differ_from_ring_51_in_the_topology_only(name):
    ring, other = _resolved("ring_51"), _resolved(name)
    assert other["topology"]["family"] != ring["topology"]["family"]
    for d in (ring, other):
        del d["name"], d["topology"]["family"], d["topology"]["params"]
    assert other == ring  # same protocol, receive model, network mode, learner, tasks, alpha


def test_the_papers_setting_is_full_51_with_broadcast_and_serial_receive():
    full, paper = _resolved("full_51"), _resolved("full_51_paper")
    assert (paper["gossip"]["protocol"], paper["network"]["serial_receive"]) == ("broadcast", True)
    assert (full["gossip"]["protocol"], full["network"]["serial_receive"]) == ("flood", False)
    for d in (full, paper):
        del d["name"], d["gossip"], d["network"]["serial_receive"]
    assert paper == full


def test_skill102_is_the_papers_setting_on_the_folder_its_variable_names(skill102_dir):
    s = load_scenario(ROOT / "scenarios/skill102.yaml")
    assert (s.tasks.suite, s.tasks.path, s.tasks.num_tasks) == ("folder", skill102_dir, 102)
    backbone = s.learner.backbone
    assert (backbone.name, backbone.image_size, s.learner.mapper.kind, s.learner.mapper.k) == \
        ("legacy_xception", 299, "gmmc", 25)
    assert s.agents.count == 51 and s.agents.assignment.kind == "balanced"  # 102 / 51 = 2 tasks each
    assert s.tasks.image_size is None  # photos go to 299 px in one resize


def test_skill102_without_its_variable_is_refused_naming_it(monkeypatch, capsys):
    from sim.experiment.cli import main

    monkeypatch.delenv("SKILL102_DIR", raising=False)
    assert main(["validate", str(ROOT / "scenarios/skill102.yaml")]) == 2
    err = capsys.readouterr().err
    assert "tasks.path" in err and "environment variable SKILL102_DIR is not set" in err
    assert "export SKILL102_DIR=" in err and "Traceback" not in err


def _write(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_typo_suggests_the_nearest_key_and_names_the_file(tmp_path):
    path = _write(tmp_path, "topolgy: {family: ring}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert str(path) in msg and "topolgy" in msg and "Did you mean 'topology'" in msg


def test_union_member_keys_are_suggested_for_the_chosen_protocol(tmp_path):
    path = _write(tmp_path, "gossip: {protocol: push, fanoutt: 3}\n")
    with pytest.raises(ScenarioError, match=r"gossip.fanoutt: unknown key. Did you mean 'fanout'\? Allowed here: fanout, protocol, rounds"):
        load_scenario(path)


def test_bad_value_quotes_field_and_value(tmp_path):
    path = _write(tmp_path, "agents: {count: 5, rate_macs_per_s: -1}\n")
    with pytest.raises(ScenarioError, match=r"agents.rate_macs_per_s = -1: Input should be greater than 0"):
        load_scenario(path)


def test_unknown_topology_family_lists_allowed(tmp_path):
    path = _write(tmp_path, "topology: {family: rign}\n")
    with pytest.raises(ScenarioError, match=r"unknown family 'rign'. Did you mean 'ring'"):
        load_scenario(path)


def test_unknown_family_parameter(tmp_path):
    path = _write(tmp_path, "topology: {family: small_world, params: {kk: 4}}\n")
    with pytest.raises(ScenarioError, match=r"unknown parameter\(s\) \['kk'\]"):
        load_scenario(path)


def test_negative_bandwidth_is_rejected(tmp_path):
    path = _write(tmp_path, "topology: {links: {bandwidth: -5}}\n")
    with pytest.raises(ScenarioError, match=r"topology.links.bandwidth = -5"):
        load_scenario(path)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(_write(tmp_path, "agents: [1, 2\n"))
    with pytest.raises(ScenarioError, match="top level must be a mapping"):
        load_scenario(_write(tmp_path, "- 1\n- 2\n"))


def test_overrides_set_nested_fields_with_yaml_values(tmp_path):
    path = _write(tmp_path, "name: x\n")
    s = load_scenario(path, ["agents.count=7", "gossip.protocol=push_pull", "alpha=[10, 1e3]"])
    assert s.agents.count == 7 and s.gossip.protocol == "push_pull" and s.alphas == [10.0, 1000.0]
    with pytest.raises(ScenarioError, match="expected key.path=value"):
        apply_override({}, "agents.count")
    with pytest.raises(ScenarioError, match="is not a section"):
        apply_override({"name": "x"}, "name.sub=1")


def test_yaml_reads_exponent_floats_as_numbers():
    assert parse_yaml("[1e3, 5.0e6, -2e-3, abc]") == [1000.0, 5e6, -0.002, "abc"]


def test_explicit_assignment_needs_one_list_per_agent():
    with pytest.raises(ValueError, match="one per agent"):
        Scenario.model_validate({"agents": {"count": 3, "assignment": {"kind": "explicit", "tasks": [[0], [1]]}}})


def test_defaults_are_a_valid_scenario():
    s = Scenario()
    assert s.agents.count == 51 and s.gossip.protocol == "flood"
