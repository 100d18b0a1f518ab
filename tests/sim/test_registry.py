"""The protocol registry (sim.protocols): one registration per protocol, and everything derived."""

import typing

import pytest
from pydantic import TypeAdapter, ValidationError

from sim.config import GossipConfig, _Gossip
from sim.engine.host import Gossip
from sim.protocols import protocol, protocols, register_protocol


def test_the_registry_holds_the_four_protocols_and_their_loops():
    got = {spec.name: spec.loop for spec in protocols()}
    assert got == {"broadcast": "sim.compiled.flood_loop", "flood": "sim.compiled.flood_loop", "push": None,
                   "push_pull": "sim.compiled.pushpull_loop"}


@pytest.mark.parametrize("spec", protocols(), ids=lambda s: s.name)
def test_every_registration_names_a_simpy_class_and_a_loop_that_exist(spec):
    import importlib

    assert issubclass(spec.implementation(), Gossip)
    assert spec.summary and spec.config.model_fields["protocol"].default == spec.name
    if spec.loop is not None:
        assert callable(importlib.import_module(spec.loop).run)


def test_the_gossip_union_is_the_registry():
    members = typing.get_args(typing.get_args(GossipConfig)[0])
    assert [m.model_fields["protocol"].default for m in members] == [s.name for s in protocols()]
    for spec in protocols():
        assert isinstance(TypeAdapter(GossipConfig).validate_python({"protocol": spec.name}), spec.config)
    with pytest.raises(ValidationError, match="broadcast.*flood.*push.*push_pull"):
        TypeAdapter(GossipConfig).validate_python({"protocol": "gossip"})


def test_skill_sim_list_protocols_lists_them_all_in_a_fresh_process():
    """`list protocols` imports nothing but the CLI: the registry must be filled all the same."""
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "sim.experiment.cli", "list", "protocols", "--json"],
                         capture_output=True, text=True, check=True).stdout
    assert sorted(json.loads(out)) == ["broadcast", "flood", "push", "push_pull"]
    from sim import protocol as exported

    assert exported("push_pull").loop == "sim.compiled.pushpull_loop"


def test_skill_sim_list_protocols_follows_the_registry(capsys):
    from sim.experiment.cli import main

    assert main(["list", "protocols"]) == 0
    out = capsys.readouterr().out
    assert all(spec.name in out for spec in protocols())


def test_a_protocol_registered_late_twice_or_unknown_is_refused(monkeypatch):
    """The schema's union is built once, when sim.config is imported: a later registration could
    never be chosen in a scenario, so it is refused with the fix; so is a name taken twice."""
    from typing import Literal

    import sim.protocols
    from sim.errors import SimError

    def declare():
        @register_protocol(engine="sim.engine.protocols:Flood")
        class Again(_Gossip):
            """Flood again."""

            protocol: Literal["flood"] = "flood"

    with pytest.raises(SimError, match="registered after the gossip schema was built; register protocols in sim/config.py"):
        declare()
    monkeypatch.setattr(sim.protocols, "_sealed", False)
    with pytest.raises(ValueError, match="protocol 'flood' is registered twice"):
        declare()
    with pytest.raises(SimError, match="unknown gossip protocol 'nope'; choose one of broadcast, flood"):
        protocol("nope")
