"""agents.timing: provenance records of wall-time measurements, and what makes two comparable."""

import socket

import torch

from agents import timing


def test_provenance_names_host_device_threads_and_a_utc_time():
    record = timing.provenance(torch.device("cpu"))
    assert record["host"] == socket.gethostname()
    assert record["device"] == "cpu"
    assert record["torch_threads"] == torch.get_num_threads()
    assert record["measured_at"].endswith("+00:00")
    assert timing.is_provenance(record)


def test_machine_ignores_when_but_not_where():
    a = {"host": "h", "device": "cpu", "torch_threads": 2, "measured_at": "2026-01-01T00:00:00+00:00"}
    later = {**a, "measured_at": "2026-06-01T00:00:00+00:00"}
    assert timing.machine_of(a) == timing.machine_of(later) == ("h", "cpu", 2)
    assert timing.machine_of({**a, "torch_threads": 4}) != timing.machine_of(a)
    assert timing.machine_of({**a, "device": "cuda:0 (NVIDIA H200)"}) != timing.machine_of(a)


def test_malformed_records_are_not_provenance():
    good = {"host": "h", "device": "cpu", "torch_threads": 2, "measured_at": "t"}
    assert timing.is_provenance(good)
    assert not timing.is_provenance(None) and not timing.is_provenance([])
    assert not timing.is_provenance({**good, "torch_threads": "2"})
    assert not timing.is_provenance({k: v for k, v in good.items() if k != "measured_at"})
