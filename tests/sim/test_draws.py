"""sim.draws: counter-based draws, and the compiled loop's twin of them."""

import numpy as np

from sim import draws


def test_draws_are_a_pure_function_of_key_and_counter():
    key = draws.stream_key(7, "push_pull", 3)
    assert [draws.draw(key, k) for k in range(5)] == [draws.draw(key, k) for k in range(5)]
    assert len({draws.draw(key, k) for k in range(1000)}) == 1000
    assert draws.stream_key(7, "push_pull", 3) != draws.stream_key(7, "push_pull", 4)
    assert draws.stream_key(7, "push_pull", 3) != draws.stream_key(8, "push_pull", 3)


def test_uniform_and_below_are_uniform():
    key = draws.stream_key(0, "test", 0)
    u = np.array([draws.uniform(key, k) for k in range(20_000)])
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01
    counts = np.bincount([draws.below(key, k, 7) for k in range(70_000)], minlength=7)
    assert counts.min() > 9_500 and counts.max() < 10_500  # 10,000 expected each; sd ~93


def test_the_compiled_twin_draws_the_same_numbers():
    from sim.compiled.pushpull_loop import draw

    rng = np.random.default_rng(0)
    for seed in range(20):
        key = draws.stream_key(int(rng.integers(2**62)), "push_pull", seed)
        for counter in [0, 1, 2, 1000, 2**40]:
            assert int(draw(np.uint64(key), counter)) == draws.draw(key, counter)
