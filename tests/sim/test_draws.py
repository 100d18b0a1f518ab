"""sim.draws: counter-based draws, and the compiled loop's twin of them."""

import numpy as np

from sim import draws


def splitmix64(state: int) -> tuple[int, int]:
    """Vigna's reference SplitMix64 step (prng.di.unimi.it/splitmix64.c): (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) % 2**64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return state, z ^ (z >> 31)


def test_draw_k_of_a_stream_is_output_k_of_splitmix64_seeded_with_its_key():
    # the published first outputs of SplitMix64 from state 0
    assert [hex(draws.draw(0, k)) for k in range(3)] == ["0xe220a8397b1dcdaf", "0x6e789e6aa1b965f4", "0x6c45d188009454f"]
    key = draws.stream_key(7, "push_pull", 3)
    state, outputs = key, []
    for _ in range(6):
        state, out = splitmix64(state)
        outputs.append(out)
    assert [draws.draw(key, k) for k in range(6)] == outputs


def test_stream_keys_chain_splitmix64_over_seed_name_and_index():
    name = sum(ord(c) * 31 ** i for i, c in enumerate("push_pull")) % 2**64
    key = 0
    for word in (7, name, 3):
        key = splitmix64(key ^ word)[1]
    assert draws.stream_key(7, "push_pull", 3) == key


def test_draws_differ_across_counters_and_streams():
    key = draws.stream_key(7, "push_pull", 3)
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
