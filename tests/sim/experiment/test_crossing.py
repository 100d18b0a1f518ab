"""The 0.5 crossing of a curve on an alpha grid, checked against a closed form: the efficiency
e(alpha) = 1 / (1 + alpha / a0) is exactly 1/2 at alpha = a0."""

import math

import pytest

from sim.experiment.crossing import crossing, efficiency_crossing, refined

A0 = 2000.0


def e(alpha):
    return 1 / (1 + alpha / A0)


def test_on_a_decade_grid_the_crossing_is_interpolated_in_log_alpha_between_its_bracket():
    # e(1e3) = 1/1.5 = 2/3 and e(1e4) = 1/6: 0.5 lies (2/3 - 1/2) / (2/3 - 1/6) = 1/3 of the way
    # from 1e3 to 1e4 in log10(alpha), so at 10 ** (3 + 1/3) = 2154.43..., not at a0 = 2000
    c = crossing([(a, e(a)) for a in (10, 100, 1e3, 1e4, 1e5, 1e6, 1e7)])
    assert c.alpha == pytest.approx(10 ** (10 / 3), rel=1e-12)
    assert (c.low, c.high, c.level) == (1e3, 1e4, 0.5)
    assert c.describe() == "~2.2e3, interpolated in log α between 1e3 and 1e4"
    assert "1e3" in c.hint() and "1e4" in c.hint()  # a decade bracket: the answer moves with the grid


def test_a_bracket_symmetric_in_log_alpha_around_a0_recovers_a0_exactly():
    # e(a0/10) = 10/11 and e(10 a0) = 1/11: 0.5 lies (10/11 - 1/2) / (9/11) = 1/2 of the way, at a0
    c = crossing([(A0 / 10, e(A0 / 10)), (A0 * 10, e(A0 * 10))])
    assert c.alpha == pytest.approx(A0, rel=1e-12)


def test_a_finer_grid_moves_the_value_towards_a0():
    coarse = crossing([(a, e(a)) for a in (1e3, 1e4)]).alpha
    fine = crossing([(a, e(a)) for a in refined(1e3, 1e4)]).alpha
    assert abs(math.log(fine / A0)) < abs(math.log(coarse / A0))


def test_a_grid_point_on_the_level_is_the_answer_and_says_so():
    c = crossing([(1e3, e(1e3)), (A0, e(A0)), (1e4, e(1e4))])
    assert c.alpha == A0 and c.on_grid
    assert c.describe() == "2e3 (a grid point)" and c.hint() is None


def test_no_crossing_within_the_grid_is_none_and_never_reached_points_are_skipped():
    assert crossing([(10, 0.9), (100, 0.8)]) is None
    assert crossing([(10, 0.4), (100, 0.3)]) is None  # already below: it never falls through within the grid
    # unsorted input, with a point whose makespan was never reached (efficiency None)
    rows = [{"alpha": 1e4, "efficiency": e(1e4)}, {"alpha": 1e5, "efficiency": None}, {"alpha": 1e3, "efficiency": e(1e3)}]
    assert efficiency_crossing(rows).alpha == pytest.approx(10 ** (10 / 3))


def test_a_narrow_bracket_needs_no_hint_and_a_refined_grid_keeps_its_ends():
    assert crossing([(1500, e(1500)), (3000, e(3000))]).hint() is None
    grid = refined(1e3, 1e4)
    assert grid[0] == 1e3 and grid[-1] == 1e4 and grid == sorted(grid) and len(grid) == 5
