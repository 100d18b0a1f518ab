"""Fixtures of the experiment tests: one learning cache for the whole session (tiny learns in
30-60 s cold; every later run of it reads the cache)."""

import pytest


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def skill102_dir(tmp_path_factory, monkeypatch):
    """$SKILL102_DIR set to a folder of 102 (empty) task folders, so that scenarios/skill102.yaml
    loads and passes the checks here (they list task folders; no image is read)."""
    root = tmp_path_factory.mktemp("skill102")
    for t in range(102):
        (root / f"task{t:03d}").mkdir()
    monkeypatch.setenv("SKILL102_DIR", str(root))
    return root
