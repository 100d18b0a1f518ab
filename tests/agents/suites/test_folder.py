"""The folder suite from a tmp_path of PNGs, and its error messages."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agents.config import SuiteConfig
from agents.errors import DataError
from agents.suites import create_suite


def _make(root: Path, tasks: dict[str, list[str]], n_train=5, n_test=3) -> Path:
    rng = np.random.default_rng(0)
    for task, classes in tasks.items():
        for split, n in (("train", n_train), ("test", n_test)):
            for c in classes:
                d = root / task / split / c
                d.mkdir(parents=True)
                for i in range(n):
                    # Odd sizes and grey images too: the suite must resize and convert to RGB.
                    img = rng.integers(0, 256, size=(20 + i, 14), dtype=np.uint8)
                    Image.fromarray(img).save(d / f"{i}.png")
    return root


def test_folder_builds(tmp_path):
    root = _make(tmp_path / "data", {"b_task": ["cat", "dog", "eel"], "a_task": ["x", "y"]})
    s = create_suite(SuiteConfig(suite="folder", path=root, image_size=16))
    assert [t.name for t in s.tasks] == ["a_task", "b_task"]
    t = s.tasks[1]
    assert t.classes == ("cat", "dog", "eel")
    assert t.x_train.shape == (15, 16, 16, 3) and t.x_test.shape == (9, 16, 16, 3)
    assert t.y_train.dtype == np.int64 and np.bincount(t.y_train).tolist() == [5, 5, 5]

    cfg = SuiteConfig(suite="folder", path=root, num_tasks=1, train_per_class=2, test_per_class=1, seed=3)
    capped = create_suite(cfg)
    assert len(capped.tasks) == 1 and capped.tasks[0].x_train.shape[0] == 4 and capped.tasks[0].x_test.shape[0] == 2
    assert create_suite(cfg).fingerprint == capped.fingerprint


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="nope.*does not exist.*<task>/train/<class>"):
        create_suite(SuiteConfig(suite="folder", path=tmp_path / "nope"))
    with pytest.raises(DataError, match="needs tasks.path"):
        create_suite(SuiteConfig(suite="folder"))


def test_empty_class_folder(tmp_path):
    root = _make(tmp_path / "d", {"t": ["a", "b"]})
    for f in (root / "t" / "train" / "b").iterdir():
        f.unlink()
    with pytest.raises(DataError, match=r"train/b.*holds no images"):
        create_suite(SuiteConfig(suite="folder", path=root))


def test_missing_split_and_mismatched_classes(tmp_path):
    root = _make(tmp_path / "d", {"t": ["a", "b"]})
    (root / "t" / "test" / "b").rename(root / "t" / "test" / "c")
    with pytest.raises(DataError, match="differ"):
        create_suite(SuiteConfig(suite="folder", path=root))
    root2 = _make(tmp_path / "e", {"t": ["a", "b"]})
    for d in (root2 / "t" / "test").rglob("*.png"):
        d.unlink()
    for d in sorted((root2 / "t" / "test").iterdir()):
        d.rmdir()
    (root2 / "t" / "test").rmdir()
    with pytest.raises(DataError, match="no test/ folder"):
        create_suite(SuiteConfig(suite="folder", path=root2))


def test_unreadable_image(tmp_path):
    root = _make(tmp_path / "d", {"t": ["a", "b"]})
    bad = root / "t" / "test" / "a" / "broken.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png"):
        create_suite(SuiteConfig(suite="folder", path=root))


def test_count_lists_task_folders_without_reading_an_image(tmp_path):
    from agents.suites.registry import count_tasks

    for name in ("b", "a", "c"):
        (tmp_path / name / "train" / "x").mkdir(parents=True)
        (tmp_path / name / "train" / "x" / "broken.png").write_bytes(b"not an image")  # build would fail on it
    assert count_tasks(SuiteConfig(suite="folder", path=tmp_path)) == 3
    assert count_tasks(SuiteConfig(suite="folder", path=tmp_path, num_tasks=2)) == 2
    with pytest.raises(DataError, match="num_tasks=4.*only 3"):
        count_tasks(SuiteConfig(suite="folder", path=tmp_path, num_tasks=4))


def test_a_train_class_with_one_image_is_refused_naming_it(tmp_path):
    # The head's validation split takes one image of each class of 2 or more: 1 leaves nothing to check.
    root = _make(tmp_path / "d", {"t": ["a", "b"]}, n_train=1)
    with pytest.raises(DataError, match=r"train/a.*holds 1 image.*at least 2"):
        create_suite(SuiteConfig(suite="folder", path=root))
    ok = _make(tmp_path / "e", {"t": ["a", "b"]}, n_train=2, n_test=1)  # 2 train, 1 test: enough
    assert len(create_suite(SuiteConfig(suite="folder", path=ok)).tasks[0].y_test) == 2


def test_files_that_are_not_images_are_skipped_and_listed(tmp_path):
    from agents.suites.folder import skipped_files

    root = _make(tmp_path / "d", {"t": ["a", "b"]})
    (root / "t" / "train" / "a" / "notes.txt").write_text("labels from the survey")
    (root / "t" / "test" / "b" / "Thumbs.db").write_bytes(b"\0" * 8)
    (root / "t" / "test" / "b" / ".DS_Store").write_bytes(b"\0" * 8)  # hidden: ignored, not counted
    task = create_suite(SuiteConfig(suite="folder", path=root)).tasks[0]
    assert (len(task.y_train), len(task.y_test)) == (10, 6)  # 5 and 3 images per class, nothing else
    cfg = SuiteConfig(suite="folder", path=root)
    assert [p.name for p in skipped_files(cfg)] == ["notes.txt", "Thumbs.db"]


def test_bad_folders_through_the_cli_exit_2_naming_the_file(tmp_path, capsys):
    from sim.experiment.cli import main

    root = _make(tmp_path / "d", {"t": ["a", "b"]})
    (root / "t" / "train" / "b" / "notes.txt").write_text("x")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"name: f\nagents: {{count: 1}}\ntasks: {{suite: folder, path: {root}}}\n"
                        "topology: {family: ring}\n")
    assert main(["validate", str(scenario)]) == 0
    err = capsys.readouterr().err
    assert "1 file(s) in class folders are not images" in err and "notes.txt" in err
    (root / "t" / "test" / "a" / "2.png").write_bytes(b"GIF89a? no")
    code = main(["run", str(scenario), "--quiet", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and "2.png" in err and "replace or delete the file" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_sizes_count_the_listed_images_a_build_uses_without_reading_one(tmp_path):
    from agents.suites.folder import sizes

    root = _make(tmp_path / "d", {"a": ["x", "y"], "b": ["x", "y", "z"]}, n_train=4)
    for i in range(4, 9):  # class b/y gets 9 train images; a/x loses two: 2 left, the fewest
        (root / "b" / "train" / "y" / f"{i}.png").hardlink_to(root / "b" / "train" / "y" / "0.png")
    (root / "a" / "train" / "x" / "0.png").unlink()
    (root / "a" / "train" / "x" / "1.png").unlink()
    (root / "a" / "train" / "x" / "notes.txt").write_text("not an image: not counted")
    # Hand count: task a has 2 + 4 = 6, task b 4 + 9 + 4 = 17 train images.
    assert sizes(SuiteConfig(suite="folder", path=root)) == (2, 6)
    assert sizes(SuiteConfig(suite="folder", path=root, train_per_class=3)) == (2, 5)  # a: 2 + 3, b: 3 + 3 + 3
    built = create_suite(SuiteConfig(suite="folder", path=root, train_per_class=3))
    assert min(len(t.y_train) for t in built.tasks) == 5


def test_a_folder_class_with_fewer_images_than_asked_warns_before_learning(tmp_path, capsys):
    from sim.experiment.cli import main

    root = _make(tmp_path / "d", {"t": ["a", "b"]}, n_train=3)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"name: f\nagents: {{count: 1}}\ntasks: {{suite: folder, path: {root}, train_per_class: 50}}\n"
                        "topology: {family: ring}\nlearner: {mapper: {kind: mahalanobis, m: 4}}\n")
    assert main(["validate", str(scenario)]) == 2  # 4 exemplars per class cannot come from 3 images
    err = " ".join(capsys.readouterr().err.split())
    assert "learner.mapper.m = 4, but folder has only 3 train images in its smallest class" in err
    scenario.write_text(scenario.read_text().replace("{kind: mahalanobis, m: 4}", "{kind: gmmc, k: 2}"))
    assert main(["validate", str(scenario)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "tasks.train_per_class = 50, but folder has only 3 train images in its smallest class" in err
