"""Task / TaskSuite validation, read-only arrays and fingerprints; the registry."""

import numpy as np
import pytest

from agents.config import SuiteConfig
from agents.errors import DataError
from agents.suites import SUITES, Task, TaskSuite, create_suite, list_suites


def _arrays(n=4, c=2, size=8):
    x = np.zeros((n * c, size, size, 3), dtype=np.uint8)
    x[:, 0, 0, 0] = np.arange(n * c)
    y = np.repeat(np.arange(c), n).astype(np.int64)
    return x, y


def _task(name="t", classes=("a", "b")):
    x, y = _arrays(c=len(classes))
    return Task(0, name, classes, x, y, x.copy(), y.copy())


def test_task_basics_and_read_only():
    t = _task()
    assert t.num_classes == 2
    assert len(t.fingerprint) == 64 and t.fingerprint == _task().fingerprint
    with pytest.raises(ValueError):
        t.x_train[0, 0, 0, 0] = 1


def test_fingerprint_depends_on_name_classes_and_data():
    base = _task().fingerprint
    assert _task(name="u").fingerprint != base
    assert _task(classes=("a", "c")).fingerprint != base
    x, y = _arrays()
    x2 = x.copy()
    x2[0, 1, 1, 1] = 9
    assert Task(0, "t", ("a", "b"), x2, y, x.copy(), y.copy()).fingerprint != base


def test_task_rejects_bad_arrays():
    x, y = _arrays()
    with pytest.raises(DataError, match="uint8"):
        Task(0, "t", ("a", "b"), x.astype(np.float32), y, x, y)
    with pytest.raises(DataError, match="int64"):
        Task(0, "t", ("a", "b"), x, y.astype(np.int32), x, y)
    with pytest.raises(DataError, match="every class"):
        Task(0, "t", ("a", "b"), x, y, x[:4], y[:4])  # test split lacks class 1
    with pytest.raises(DataError, match="at least 2"):
        Task(0, "t", ("a",), x[:4], y[:4], x[:4], y[:4])


def test_suite_fingerprint_and_registry():
    s1, s2 = TaskSuite("s", [_task()]), TaskSuite("s", [_task()])
    assert s1.fingerprint == s2.fingerprint and len(s1) == 1
    assert TaskSuite("other", [_task()]).fingerprint != s1.fingerprint
    names = list_suites()
    assert set(names) == {"distinct", "mixed", "fashion_mnist", "digits", "textures", "folder"} == set(SUITES)
    assert list(names)[0] == "distinct"  # the default is listed first
    assert all(isinstance(d, str) and d for d in names.values())


def test_unknown_suite_lists_names():
    cfg = SuiteConfig.model_construct(suite="nope")  # bypasses the Literal, as a bug elsewhere might
    with pytest.raises(DataError, match="nope.*mixed"):
        create_suite(cfg)
