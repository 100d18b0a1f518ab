"""Leftover temp files: a writer killed mid-write leaves one; it is removed once its writer is gone."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from agents import atomic
from agents.cache import leftovers

ROOT = Path(__file__).resolve().parents[3]


def test_a_writer_killed_mid_write_leaves_a_temp_file_that_the_sweep_removes(tmp_path):
    target = tmp_path / "features" / "abc.npy"
    code = textwrap.dedent(f"""
        import os, signal
        from agents import atomic
        atomic.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # die between write and rename
        atomic.write_atomic(__import__("pathlib").Path({str(target)!r}), b"x" * 4096)
    """)
    proc = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -signal.SIGKILL
    (tmp,) = list(target.parent.iterdir())
    assert tmp.name.startswith(".abc.npy.") and tmp.suffix == ".tmp" and not target.exists()
    (found,) = leftovers.find(tmp_path)
    assert found.path == tmp and found.bytes == 4096 and "is gone" in found.why
    assert [r.path for r in leftovers.sweep(tmp_path)] == [tmp]
    assert list(target.parent.iterdir()) == []


def test_a_live_writers_temp_file_is_kept_until_its_lease_runs_out(tmp_path):
    mine = tmp_path / f".a.npy.{atomic.host_tag()}.{os.getpid()}.{'0' * 12}.tmp"
    mine.write_bytes(b"in progress")
    assert leftovers.sweep(tmp_path) == []  # this process is alive: keep
    later = time.time() + leftovers.LEASE_S + 1
    assert [r.path for r in leftovers.sweep(tmp_path, now=later)] == [mine]  # untouched past the lease


def test_other_hosts_and_old_names_go_by_age_only(tmp_path):
    foreign = tmp_path / f".b.json.other-host.{os.getpid() + 1}.{'1' * 12}.tmp"
    legacy = tmp_path / f".c.pkg.{'2' * 12}.tmp"  # named before writers were named
    for path in (foreign, legacy):
        path.write_bytes(b"")
    assert leftovers.find(tmp_path, lease_s=60) == []
    old = time.time() - 61
    os.utime(legacy, (old, old))
    assert [r.path for r in leftovers.find(tmp_path, lease_s=60)] == [legacy]
    assert leftovers.find(tmp_path / "absent") == []


def test_pid_alive():
    assert leftovers.pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not leftovers.pid_alive(child.pid) and not leftovers.pid_alive(0)
