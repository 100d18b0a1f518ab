"""Fixtures of the experiment tests: one learning cache for the whole session (tiny learns in
30-60 s cold; every later run of it reads the cache)."""

import pytest


@pytest.fixture(scope="session")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def skill102_dir(tmp_path_factory, monkeypatch):
    """$SKILL102_DIR set to 102 task folders of empty *.png files (two classes, 30 train and 2 test
    files each), so that scenarios/skill102.yaml loads and passes the checks here: they list task,
    class and image files (above k = 25 per task, 2 per class) but read no image."""
    root = tmp_path_factory.mktemp("skill102")
    for t in range(102):
        for split, files in (("train", 30), ("test", 2)):
            for c in ("a", "b"):
                folder = root / f"task{t:03d}" / split / c
                folder.mkdir(parents=True)
                for i in range(files):
                    (folder / f"{i}.png").touch()
    monkeypatch.setenv("SKILL102_DIR", str(root))
    return root
