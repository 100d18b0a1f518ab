"""events.csv from hand-made recorder inputs, read back with the csv module: the column order,
one row per package, a flow's rows summing to its bytes, integer cells, link rows per edge."""

import csv

import numpy as np
import pytest

from sim.experiment import events_table
from sim.recorder import Event, Recorder

HEADER = "time_s,kind,agent,peer,task,bytes,outcome,end_s,transfer,link_u,link_v"
SIZES = {0: 100, 1: 250, 2: 40}  # package bytes of tasks 0, 1, 2


class Finished:
    """The two things event_rows reads from a SimResult: its recorder and its bank changes."""

    def __init__(self, recorder, changes=()):
        self.recorder = recorder
        self._changes = list(changes)

    def bank_changes(self):
        return self._changes


def read(tmp_path, result):
    """Write events.csv and read it back as (header line, rows as dicts)."""
    path = tmp_path / "events.csv"
    events_table.write_events(path, result, SIZES)
    with open(path, newline="") as handle:
        return path.read_text().splitlines()[0], list(csv.DictReader(handle))


def test_a_batched_flow_gives_one_row_per_package_summing_to_its_bytes(tmp_path):
    rec = Recorder()
    rec.transfer(1.0, 2.0, 3, 4, 390.0, "delivered", np.array([1, 0, 2]))  # 250 + 100 + 40
    rec.transfer(0.5, 0.75, 4, 3, 100.0, "delivered", np.array([0]))
    header, rows = read(tmp_path, Finished(rec))
    assert header == HEADER
    got = [(r["time_s"], r["agent"], r["peer"], r["task"], r["bytes"], r["transfer"], r["end_s"]) for r in rows]
    assert got == [("0.5", "4", "3", "0", "100", "0", "0.75"),  # time order; flows numbered as they appear
                   ("1.0", "3", "4", "1", "250", "1", "2.0"),
                   ("1.0", "3", "4", "0", "100", "1", "2.0"),
                   ("1.0", "3", "4", "2", "40", "1", "2.0")]
    assert all(r["kind"] == "transfer" and r["outcome"] == "delivered" and r["link_u"] == r["link_v"] == "" for r in rows)


def test_digests_add_to_the_last_row_and_a_digest_only_flow_is_one_row_with_no_task(tmp_path):
    rec = Recorder()
    rec.transfer(0.0, 1.0, 0, 1, 100.0 + 40.0 + 7.0, "delivered", np.array([-1, 0, 2]))  # a 7 B digest first
    rec.transfer(2.0, 3.0, 1, 0, 12.0, "lost", np.array([-3]))
    _, rows = read(tmp_path, Finished(rec))
    assert [(r["task"], r["bytes"], r["transfer"]) for r in rows] == [("0", "100", "0"), ("2", "47", "0"), ("", "12", "1")]
    assert rows[2]["outcome"] == "lost"


def test_a_cut_flow_splits_the_bytes_it_sent_in_package_order(tmp_path):
    rec = Recorder()
    rec.transfer(0.0, 1.0, 0, 1, 280.4, "cut", np.array([0, 1, 2]))  # 280 B whole: 100, then 180 of 250, then 0
    _, rows = read(tmp_path, Finished(rec))
    assert [int(r["bytes"]) for r in rows] == [100, 180, 0]
    assert {r["outcome"] for r in rows} == {"cut"}


@pytest.mark.parametrize("total, packages, expected", [
    (390, [1, 0, 2], [250, 100, 40]),
    (400, [1, 0, 2], [250, 100, 50]),  # 10 B of digest or header on the last row
    (120, [0, 1], [100, 20]),
    (0, [0], [0]),
    (9, [], [9]),
])
def test_split_bytes_sums_to_the_flow_and_fills_packages_in_order(total, packages, expected):
    shares = events_table.split_bytes(total, packages, SIZES)
    assert shares == expected and sum(shares) == total


def test_bank_changes_and_incidents_have_their_own_columns(tmp_path):
    rec = Recorder()
    rec.emit(Event(0.5, "link_down", edges=((0, 1), (2, 3)), cause="partition", detail="partition [(0, 1), (2, 3)]"))
    rec.emit(Event(1.0, "crashed", 2, keep_bank=False))
    rec.emit(Event(1.5, "link_up", edges=((0, 1), (2, 3)), cause="partition"))
    rec.emit(Event(2.0, "recovered", 2, keep_bank=False))
    rec.emit(Event(2.5, "crashed", 3))
    changes = [(0.25, 2, 1, 1), (2.0, 2, 1, -1)]
    _, rows = read(tmp_path, Finished(rec, changes))
    cells = [(r["time_s"], r["kind"], r["agent"], r["peer"], r["task"], r["bytes"], r["outcome"], r["link_u"], r["link_v"])
             for r in rows]
    assert cells == [
        ("0.25", "banked", "2", "", "1", "", "", "", ""),
        ("0.5", "link_down", "", "", "", "", "partition", "0", "1"),
        ("0.5", "link_down", "", "", "", "", "partition", "2", "3"),
        ("1.0", "crashed", "2", "", "", "", "bank wiped", "", ""),
        ("1.5", "link_up", "", "", "", "", "partition", "0", "1"),
        ("1.5", "link_up", "", "", "", "", "partition", "2", "3"),
        ("2.0", "removed", "2", "", "1", "", "", "", ""),  # bank changes come before incidents of one instant
        ("2.0", "recovered", "2", "", "", "", "bank wiped", "", ""),
        ("2.5", "crashed", "3", "", "", "", "", "", ""),
    ]


def test_integer_columns_hold_integers_even_from_numpy_and_bulk_rows(tmp_path):
    """The compiled loop logs flows as arrays (float bytes, int64 ids): cells still read as ints."""
    rec = Recorder()
    rec.add_flows(np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([0, 1], dtype=np.int32),
                  np.array([0, 1], dtype=np.int64), np.array([1, 0], dtype=np.int64), np.array([350.0, 40.0]),
                  np.array([0, 1, 2], dtype=np.int64), np.array([0, 2, 3]))
    _, rows = read(tmp_path, Finished(rec, [(np.float64(1.0), np.int64(1), np.int64(0), 1)]))
    for row in rows:
        for column in ("agent", "peer", "task", "bytes", "transfer", "link_u", "link_v"):
            assert row[column] == "" or row[column].lstrip("-").isdigit(), (column, row[column])
    assert [(r["kind"], r["task"], r["bytes"]) for r in rows] == [
        ("transfer", "0", "100"), ("transfer", "1", "250"), ("transfer", "2", "40"), ("banked", "0", "")]
    # 350 B over packages 0 and 1 (100 + 250), 40 B for package 2; transfers before bank changes of one instant
