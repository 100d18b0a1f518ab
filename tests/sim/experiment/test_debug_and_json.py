"""What the README promises of --debug and --json: an unexpected failure is one line (exit 1)
unless --debug asks for the traceback; validate --json and list --json print one JSON document."""

import json

import pytest

from sim.experiment import listing
from sim.experiment.cli import main


def test_an_unexpected_failure_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(what, every=False):
        raise RuntimeError("boom")

    monkeypatch.setattr(listing, "listing", broken)
    assert main(["list", "topologies"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError, match="boom"):
        main(["list", "topologies", "--debug"])


def test_validate_and_list_json_print_one_json_document(capsys):
    assert main(["validate", "tiny", "--json"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert resolved["name"] == "tiny" and resolved["agents"]["count"] == 4
    assert main(["list", "protocols", "--json"]) == 0
    assert {"flood", "broadcast", "push_pull"} <= set(json.loads(capsys.readouterr().out))
