"""What timing: wall measured (the results.json block) and the refusal to mix machines."""

import pytest

from agents.learner import LearnResult
from sim.errors import ScenarioError
from sim.experiment import wall_timing


def _where(host, device="cpu", threads=2, when="2026-12-01T10:00:00+00:00"):
    return {"host": host, "device": device, "torch_threads": threads, "measured_at": when}


def _result(tid, features_at, learning_at, features_s=10.0, head_s=1.0):
    return LearnResult(task_id=tid, package=b"x", teacher_macs={"features": 1}, student_macs=0,
                       wall_s=features_s + head_s, wall_by_phase={"features": features_s, "head": head_s},
                       wall_measured={"features": features_at, "learning": learning_at})


def test_one_machine_passes_whenever_it_measured():
    a = _result(0, _where("h", when="2026-11-01T00:00:00+00:00"), _where("h"))
    b = _result(1, _where("h"), _where("h", when="2026-12-01T11:00:00+00:00"))
    found = wall_timing.machines([a, b])
    assert found == {("h", "cpu", 2): {0, 1}}
    wall_timing.check_one_machine(found, "/cache")  # no error


@pytest.mark.parametrize("other", [_where("elsewhere"), _where("h", device="cuda:0 (NVIDIA H200)"), _where("h", threads=8)],
                         ids=["host", "device", "threads"])
def test_features_or_learning_from_another_machine_is_refused_with_the_fixes(other):
    a = _result(0, _where("h"), _where("h"))
    b = _result(1, other, _where("h"))  # its features were extracted elsewhere
    with pytest.raises(ScenarioError) as info:
        wall_timing.check_one_machine(wall_timing.machines([a, b]), "/my/cache")
    message = str(info.value)
    assert "2 machines" in message and "tasks 0, 1" in message and "tasks 1" in message
    assert "--set timing=macs" in message and "--cache" in message and "/my/cache" in message


def test_summary_counts_what_this_run_measured_and_when():
    learned = {
        0: _result(0, _where("h", when="2026-11-01T00:00:00+00:00"), _where("h", when="2026-11-02T00:00:00+00:00")),
        1: _result(1, _where("h", when="2026-11-01T00:00:00+00:00"), _where("h", when="2026-12-01T11:00:00+00:00"),
                   features_s=4.0, head_s=0.5),
        2: _result(2, _where("h", when="2026-12-01T11:00:00+00:00"), _where("h", when="2026-12-01T11:00:01+00:00")),
    }
    block = wall_timing.summary(learned, fresh={1, 2}, extracted={2})
    assert block["seconds_by_phase"] == {"features": 24.0, "head": 2.5}
    assert block["machines"] == [{"host": "h", "device": "cpu", "torch_threads": 2, "tasks": 3}]
    assert (block["measured_from"], block["measured_to"]) == ("2026-11-01T00:00:00+00:00", "2026-12-01T11:00:01+00:00")
    assert (block["tasks_learned_this_run"], block["tasks_learned_from_cache"]) == (2, 1)
    assert (block["features_extracted_this_run"], block["features_from_cache"]) == (1, 2)
    assert "feature extraction" in block["includes"]
