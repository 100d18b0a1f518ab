"""Shipped scenarios mean what they say, and what the README says about --set and relative paths
holds: a mapping value replaces a section, a dotted key merges; topology.path is looked up beside
the scenario file, output.dir is relative to the working directory."""

import json
from pathlib import Path

import yaml

from sim.experiment.cli import main
from sim.experiment.loading import load_scenario

ROOT = Path(__file__).resolve().parents[3]


def test_smallworld_differs_from_ring_51_only_in_its_topology_and_claims_no_bandwidth(capsys):
    raw = yaml.safe_load((ROOT / "scenarios" / "smallworld_51.yaml").read_text())
    assert raw["network"]["mode"] == "alpha" and "bandwidth" not in raw["topology"]["links"]
    ring, small = load_scenario("ring_51").model_dump(), load_scenario("smallworld_51").model_dump()
    assert small["topology"]["family"] == "small_world"
    for section in ("agents", "tasks", "learner", "network", "gossip", "alpha", "failures"):
        assert small[section] == ring[section], section
    assert small["topology"]["links"] == ring["topology"]["links"]
    assert main(["list", "scenarios", "--json"]) == 0
    assert "heterogeneous" not in json.loads(capsys.readouterr().out)["smallworld_51"]
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `scenarios/smallworld_51.yaml`"))
    assert "heterogeneous" not in row


def test_a_mapping_value_replaces_the_section_while_a_dotted_key_merges():
    merged = load_scenario("tiny", ["topology.family=full"]).topology
    replaced = load_scenario("tiny", ["topology={family: full}"]).topology
    assert merged.family == replaced.family == "full"
    assert merged.links.latency == 0.001  # tiny's own link latency kept
    assert replaced.links.latency == load_scenario("tiny", ["topology.links={}"]).topology.links.latency != 0.001


def test_topology_path_resolves_beside_the_scenario_and_output_dir_against_the_cwd(tmp_path, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "g.edgelist").write_text("0 1\n1 2\n2 3\n3 0\n")
    text = (ROOT / "scenarios" / "tiny.yaml").read_text().replace("  family: ring\n", "  family: file\n  path: g.edgelist\n")
    (folder / "s.yaml").write_text(text + "output: {dir: out}\n")
    monkeypatch.chdir(tmp_path)
    sc = load_scenario(folder / "s.yaml")
    assert Path(sc.topology.path) == folder / "g.edgelist"
    assert Path(sc.output.dir) == Path("out")  # left relative: the run writes ./out, not study/out
