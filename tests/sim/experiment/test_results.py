"""results.json is strict JSON: NaN and +-inf become null, numpy values become plain numbers."""

import json
import math

import numpy as np
import pytest

from sim.experiment import results


def strict_load(text):
    """json.loads that refuses the NaN / Infinity tokens Python's json writes by default."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_floats_anywhere_become_null():
    data = {"a": math.nan, "b": [1.0, math.inf, {"c": -math.inf}], "d": (np.float64("nan"), np.float32(2.5)),
            "e": np.array([1.0, np.inf]), "f": np.int64(7), "g": "inf", "h": True, "i": None}
    text = results.dumps(data)
    assert strict_load(text) == {"a": None, "b": [1.0, None, {"c": None}], "d": [None, 2.5], "e": [1.0, None],
                                 "f": 7, "g": "inf", "h": True, "i": None}
    json.dumps(json.loads(text), allow_nan=False)  # what the issue asks any reader to be able to do


def test_write_json_writes_strict_json(tmp_path):
    path = tmp_path / "results.json"
    results.write_json(path, {"makespan_s": math.inf, "speedup": 3.0})
    assert strict_load(path.read_text()) == {"makespan_s": None, "speedup": 3.0}


def test_unknown_objects_are_still_refused():
    with pytest.raises(TypeError, match="object"):
        results.dumps({"x": object()})
