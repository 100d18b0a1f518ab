"""The YAML reader: duplicate keys, merges, nesting, nan, text that is too long or not UTF-8."""

import pytest
import yaml

from sim.errors import ScenarioError
from sim.experiment.loading import MAX_DEPTH, MAX_TEXT, check_values, load_scenario, parse_yaml


def test_a_duplicate_key_names_the_key_and_both_lines():
    with pytest.raises(yaml.YAMLError, match=r"line 3: duplicate key 'a' \(first on line 1\)"):
        parse_yaml("a: 1\nb: 2\na: 3\n")


def test_merge_keys_may_be_overridden_and_equal_keys_in_different_mappings_are_fine():
    assert parse_yaml("x: &d {k: 1, j: 2}\ny: {<<: *d, k: 3}\n") == {"x": {"k": 1, "j": 2}, "y": {"k": 3, "j": 2}}
    assert parse_yaml("a: {k: 1}\nb: {k: 2}\n") == {"a": {"k": 1}, "b": {"k": 2}}


def test_check_values_names_the_first_value_no_field_takes():
    assert check_values({"a": {"b": [1.0, 2]}}) is None
    assert check_values({"a": {"b": [1.0, float("nan")]}}) == "a.b.1 = nan: not a number; give a number"
    deep: list = []
    node = deep
    for _ in range(MAX_DEPTH + 1):
        node.append([])
        node = node[0]
    assert "nested more than" in check_values({"name": deep})
    assert f"{MAX_TEXT + 1} characters" in check_values({"name": "x" * (MAX_TEXT + 1)})


def test_a_file_that_is_not_utf8_or_empty_is_refused_naming_it(tmp_path):
    bad = tmp_path / "garbage.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ScenarioError, match=r"garbage.yaml: not a text file \(byte 0xe9 at offset 9"):
        load_scenario(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("\n# only a comment\n")
    with pytest.raises(ScenarioError, match="empty.yaml: empty scenario file"):
        load_scenario(empty)


def test_only_true_and_false_are_booleans():
    """YAML 1.2: yes / no / on / off stay words (YAML 1.1 would read them as booleans)."""
    from sim.experiment.loading import parse_yaml

    assert parse_yaml("[true, True, FALSE, false]") == [True, True, False, False]
    assert parse_yaml("[yes, no, on, off, y, n]") == ["yes", "no", "on", "off", "y", "n"]


def test_a_section_that_names_no_kind_gets_its_defaults_kind(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nagents: {count: 4}\ntasks: {num_tasks: 8}\n")  # no learner.mapper in the file
    scenario = load_scenario(path, ["learner.mapper.k=7"])
    assert (scenario.learner.mapper.kind, scenario.learner.mapper.k) == ("gmmc", 7)
    path.write_text("learner: {mapper: {reg_covar: 0.5}}\n")
    assert load_scenario(path).learner.mapper.kind == "gmmc"
    # a kind given is kept, and its own fields apply
    assert load_scenario(path, ["learner.mapper={kind: mahalanobis}"]).learner.mapper.kind == "mahalanobis"


def test_the_paper_preset_resolves_in_a_scenario_and_overrides_still_win(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nagents: {count: 4}\ntasks: {num_tasks: 8}\nlearner: {preset: paper}\n")
    gmmc = load_scenario(path).learner.mapper
    assert (gmmc.kind, gmmc.prior, gmmc.reg_covar) == ("gmmc", "uniform", 1e-6)
    maha = load_scenario(path, ["learner.mapper={kind: mahalanobis}", "learner.mapper.shrinkage=0.05"]).learner.mapper
    assert (maha.share, maha.exemplars, maha.m, maha.shrinkage) == ("images", "random", 5, 0.05)
    assert load_scenario(path, ["learner.preset=default"]).learner.mapper.prior == "samples"
