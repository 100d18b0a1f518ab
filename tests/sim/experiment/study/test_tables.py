"""study.csv / summary.csv statistics and the 0.5 crossing, against hand computations."""

from __future__ import annotations

import math

import pytest

from sim.experiment.study import figures, tables

# Student's t quantiles t(0.975, df), from a printed table.
T975 = {1: 12.7062, 3: 3.1824}


def test_summarise_two_values_by_hand():
    got = tables.summarise([2.0, 4.0])
    # mean 3; s = sqrt(((2-3)^2 + (4-3)^2) / 1) = sqrt(2); half width = t(1) * s / sqrt(2) = t(1)
    assert got["mean"] == pytest.approx(3.0)
    assert got["std"] == pytest.approx(math.sqrt(2))
    assert got["ci95_low"] == pytest.approx(3.0 - T975[1], abs=1e-3)
    assert got["ci95_high"] == pytest.approx(3.0 + T975[1], abs=1e-3)


def test_summarise_four_values_by_hand():
    got = tables.summarise([1.0, 2.0, 3.0, 4.0])
    # mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; s = sqrt(5/3) = 1.29099
    assert got["mean"] == pytest.approx(2.5)
    assert got["std"] == pytest.approx(1.290994, rel=1e-6)
    half = T975[3] * 1.290994 / 2  # = 2.0542
    assert got["ci95_high"] - 2.5 == pytest.approx(half, abs=1e-3)
    assert 2.5 - got["ci95_low"] == pytest.approx(half, abs=1e-3)


def test_one_value_has_no_spread_and_none_is_skipped():
    assert tables.summarise([5.0]) == {"mean": 5.0, "std": None, "ci95_low": None, "ci95_high": None}
    assert tables.summarise([None, 5.0])["mean"] == 5.0
    assert tables.summarise([])["mean"] is None


def test_summary_pools_seeds_per_combination_and_leaves_failed_cells_out():
    def row(family, seed, speedup, status="ok"):
        return {"topology.family": family, "seed": seed, "speedup": speedup, "status": status}

    rows = [row("ring", 0, 10.0), row("ring", 1, 14.0), row("star", 0, 3.0), row("star", 1, None, "failed")]
    summary = tables.summary_rows(["topology.family"], rows)
    assert [s["topology.family"] for s in summary] == ["ring", "star"]
    ring, star = summary
    assert ring["seeds"] == 2 and ring["speedup_mean"] == pytest.approx(12.0)
    assert ring["speedup_std"] == pytest.approx(math.sqrt(8))  # deviations 2 and 2: s^2 = 8 / 1
    assert star["seeds"] == 1 and star["speedup_mean"] == 3.0 and star["speedup_std"] is None


def test_crossing_interpolates_in_log_alpha():
    # efficiency 0.8 at alpha 100, 0.4 at alpha 1000: 0.5 is 3/4 of the way -> 10^(2 + 0.75) = 562.3
    points = [(10.0, 1.0), (100.0, 0.8), (1000.0, 0.4), (10000.0, 0.1)]
    assert figures.crossing(points) == pytest.approx(10 ** 2.75)
    assert figures.crossing([(10.0, 0.9), (100.0, 0.6)]) is None  # never falls through 0.5 on the grid
