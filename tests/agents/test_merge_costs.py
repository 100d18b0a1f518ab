"""agents.merge_costs.Scatter: the scatter state the mapper's renewal rule reads, counted by hand
(d = 8: inverse 4*512 // 3 = 682, pseudo-inverse 512 // 3 + 11*512 // 2 = 2986, a class re-cached
64 + 8 = 72)."""

from agents.merge_costs import Scatter


def test_renewals_follow_rank_and_exactness():
    """Unshrunk: 4 exemplars of 2 classes are singular (pseudo 2986 + 144); 4 more reach rank 8
    (inverse 682 + 288, now exact); 2 more of 1 class: Woodbury 2*64*2 + 2*8*4 + 8 // 3 = 322, 4
    cached classes moved 2*4*8*2 = 128, 1 new class 64, mu'P mu of 5: 40 -> 554 < 682 + 360."""
    s = Scatter(8, shrunk=False)
    how, macs, s = s.renew(4, 2)
    assert (how, macs, s.exact) == ("inverse (pseudo)", 3130, False)
    how, macs, s = s.renew(4, 2)
    assert (how, macs, s.exact) == ("inverse", 970, True)
    how, macs, s = s.renew(2, 1)
    assert (how, macs, s.exemplars, s.classes) == ("woodbury", 554, 10, 5)


def test_a_shrunk_scatter_always_re_inverts_and_is_never_singular():
    s = Scatter(8, shrunk=True)
    for classes in (1, 2, 3):
        how, macs, s = s.renew(1, 1)
        assert (how, macs) == ("inverse", 682 + 72 * classes)


def test_a_learned_task_makes_the_metric_exact_and_a_drop_makes_it_stale():
    s = Scatter(8, shrunk=False).learned(6, 2)
    assert not s.exact  # rank 6 < 8: pseudo-inverted by the learner
    s = s.learned(4, 1)
    assert s.exact and (s.exemplars, s.classes) == (10, 3)
    s = s.dropped(4, 1)
    assert not s.exact and (s.exemplars, s.classes) == (6, 2)
