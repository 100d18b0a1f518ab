"""Fixtures of the experiment tests: one learning cache for the whole session (tiny learns in
30-60 s cold; every later run of it reads the cache)."""

import pytest


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))
