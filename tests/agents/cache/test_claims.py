"""Claims: one holder per key, across processes; a dead or silent holder's claim is taken over."""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from agents import atomic
from agents.cache.claims import ClaimBoard

ROOT = Path(__file__).resolve().parents[3]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_one_holder_at_a_time_and_release_frees_the_key(tmp_path):
    board = ClaimBoard(tmp_path)
    claim = board.try_claim("k")
    assert claim is not None and claim.path == tmp_path / "claims" / "k.0.claim"
    holder = json.loads(claim.path.read_text())
    assert holder["pid"] == os.getpid() and holder["host"] == atomic.host_tag()
    assert board.try_claim("k") is None  # held by a live process (this one)
    assert board.try_claim("other") is not None  # keys are independent
    claim.release()
    assert not claim.path.exists()
    with board.try_claim("k") as again:
        assert again.path.name == "k.0.claim"
    assert board.held() == [tmp_path / "claims" / "other.0.claim"]


def test_a_dead_holders_claim_is_taken_over_by_exactly_the_next_generation(tmp_path):
    board = ClaimBoard(tmp_path)
    board.dir.mkdir()
    dead = board.dir / "k.0.claim"
    dead.write_text(json.dumps({"host": atomic.host_tag(), "pid": _dead_pid(), "token": "x", "claimed_at": 0}))
    taken = board.try_claim("k")
    assert taken is not None and taken.path.name == "k.1.claim"
    assert dead.exists() and board.try_claim("k") is None  # generation 1 is live now
    taken.release()
    assert board.held() == []  # the stale generation went with it


def test_another_hosts_claim_is_live_until_its_lease_runs_out(tmp_path):
    board = ClaimBoard(tmp_path, lease_s=60)
    board.dir.mkdir()
    foreign = board.dir / "k.0.claim"
    foreign.write_text(json.dumps({"host": "elsewhere", "pid": 1, "token": "y", "claimed_at": 0}))
    assert board.try_claim("k") is None
    old = time.time() - 61
    os.utime(foreign, (old, old))  # silent for longer than the lease
    taken = board.try_claim("k")
    assert taken is not None and taken.path.name == "k.1.claim"
    taken.release()


def test_the_heartbeat_keeps_a_held_claim_fresh(tmp_path):
    board = ClaimBoard(tmp_path, lease_s=0.4)  # touched every 0.1 s
    claim = board.try_claim("k")
    old = time.time() - 100
    os.utime(claim.path, (old, old))
    time.sleep(0.5)
    assert time.time() - claim.path.stat().st_mtime < 0.4  # touched again within the lease
    claim.release()


RACER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from agents.cache.claims import ClaimBoard
    board, go = ClaimBoard(Path(sys.argv[1])), Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.001)
    won = [k for k in range(200) if board.try_claim(f"task{k}") is not None]  # held until exit
    print(" ".join(map(str, won)))
""")


def test_two_processes_racing_for_the_same_keys_never_both_win_one(tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path), str(go)], env=env,
                               stdout=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(1.0)
    go.touch()
    won = [set(map(int, r.communicate(timeout=120)[0].split())) for r in racers]
    assert won[0].isdisjoint(won[1]) and won[0] | won[1] == set(range(200))
