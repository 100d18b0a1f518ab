"""write_atomic: files get the mode the umask gives any new file, and an interrupted write leaves nothing."""

import os
import stat

import pytest

from agents import atomic


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_new_files_honour_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    target = tmp_path / "sub" / "results.json"
    atomic.write_atomic(target, b"{}")
    assert stat.S_IMODE(target.stat().st_mode) == mode  # 0666 & ~mask, worked by hand
    assert target.read_bytes() == b"{}"


def test_replacing_a_file_keeps_the_umask_mode_and_no_temp_file(tmp_path, umask):
    umask(0o027)
    target = tmp_path / "a.csv"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    atomic.write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_an_interrupted_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "a.csv"
    target.write_bytes(b"old")

    def boom(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_file_sha256_reads_across_blocks_to_the_digest_of_the_whole_bytes(tmp_path):
    import hashlib

    from agents.atomic import file_sha256

    data = bytes(range(256)) * (5 * 4096 + 7)  # 5 MiB and change: several 1 MiB blocks and a partial one
    (tmp_path / "f").write_bytes(data)
    assert file_sha256(tmp_path / "f") == hashlib.sha256(data).hexdigest()
