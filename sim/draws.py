"""Counter-based random draws: a protocol's random choices as a pure function of (seed, stream, counter).

The SimPy engine and the compiled loop (sim/compiled/pushpull_loop.py) must make the same random choices
in the same situations, yet they reach those situations by different routes. A counter-based
generator (SplitMix64's mixer applied to key + counter x golden ratio, as in Steele et al., "Fast
splittable pseudorandom number generators", 2014) needs no shared state: draw k of a stream is
the same number whoever asks for it and whenever. The compiled loop has a numba twin of `draw`
(tested equal on many inputs).
"""

from __future__ import annotations

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # 2^64 / golden ratio: SplitMix64's increment
UNIT = 2.0 ** -53


def mix64(z: int) -> int:
    """SplitMix64's finalizer: a bijection on 64-bit integers that scatters every input bit."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def stream_key(seed: int, name: str, index: int) -> int:
    """The key of stream (name, index) under a run's seed, e.g. ("push_pull", agent)."""
    words = [seed & MASK, sum(ord(c) * 31 ** i for i, c in enumerate(name)) & MASK, index & MASK]
    key = 0
    for w in words:
        key = mix64(((key ^ w) + GOLDEN) & MASK)
    return key


def draw(key: int, counter: int) -> int:
    """Draw number `counter` (>= 0) of the stream `key`: a uniform 64-bit integer."""
    return mix64((key + (counter + 1) * GOLDEN) & MASK)


def uniform(key: int, counter: int) -> float:
    """Draw `counter` as a float in [0, 1) (its top 53 bits)."""
    return (draw(key, counter) >> 11) * UNIT


def below(key: int, counter: int, n: int) -> int:
    """Draw `counter` as an integer in [0, n) (bias below n / 2^64: negligible for degrees)."""
    return draw(key, counter) % n
