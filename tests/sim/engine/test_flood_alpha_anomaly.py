"""Flood on a full graph in alpha mode is not monotone in alpha, and that is the model, not a bug:
a closed form (hand count below) pins the makespan on both sides of the jump, in every engine.

N agents, two tasks each of C seconds, every link direction a FIFO pipe of T = bytes * alpha / rate
seconds per package and latency L. Each agent's first package A_i leaves at C on its N-1 links and
arrives at C + T + L; flood then forwards every A_j on every link but the one it came from, so each
direction i->k queues N-2 redundant copies (A_j, j not i, k). The owner's second package B_i is
ready at 2C. Two cases, decided by which reaches the queue first:
  T + L < C: the copies are queued first; B_i waits behind them and arrives at
             max(2C, C + T + L + (N-2) T) + T + L;
  T + L > C: B_i is queued first (the copies arrive after 2C) and arrives at max(2C, C + T) + T + L.
Slower links (larger alpha) delay the redundant copies past B_i's release, so B_i overtakes them:
at T -> C - L the makespan falls from ~C + N (C - L) to 3C, a factor ~N / 3.

per_package streams share a direction instead of queueing on it, and every transfer's bytes flow
L after it opens (CM02). T + L < C: the link stays busy from the copies' start to B_i's end and B_i
ends last, so the makespan is per_link's. T + L > C (times in seconds of bytes at the full rate):
B_i flows from 2C + L; A_i, which flows from C + L, ends at C + T + L when T <= C, else at 2T + L
after sharing with B_i (B_i then has C left); either way A_j arrives at max(C, T) + T + L, its
copies flow L later, B_i is alone until then and has C - L left, which it sends at a 1/(N-1) share:
it ends at max(C, T) + T + 2L + (C - L)(N - 1), before the copies.
"""

import networkx as nx
import pytest

from sim.simulate import simulate
from sim.workload import synthetic_workload

N, C, L = 4, 100.0, 1.0  # agents, seconds per task (100 MACs at 1 MAC/s), link latency
NBYTES = 10  # bytes per package: T = NBYTES * alpha / rate = 10 alpha seconds


def closed_form(t: float) -> float:
    """Makespan from the hand count in the module docstring (last B_i's arrival)."""
    if t + L < C:
        return max(2 * C, C + t + L + (N - 2) * t) + t + L
    return max(2 * C, C + t) + t + L


def closed_form_per_package(t: float) -> float:
    """Makespan of per_package streams from the hand count in the module docstring."""
    return closed_form(t) if t + L < C else max(C, t) + t + 2 * L + (C - L) * (N - 1)


def makespan(alpha: float, engine: str, streams: str = "per_link") -> float:
    """Flood on the full graph of N agents, two equal tasks each, links priced by alpha."""
    graph = nx.complete_graph(N)
    nx.set_edge_attributes(graph, L, "latency")
    work = synthetic_workload(N, 2, int(C), NBYTES)
    result = simulate(graph, work, rates=[1.0] * N, network={"mode": "alpha", "streams": streams},
                      gossip={"protocol": "flood"}, alpha=alpha, engine=engine)
    return result.metrics.makespan_s


# T = 10 alpha: 4 (copies all sent before 2C), 60 and 98 (B_i waits), 100 and 150 (B_i first)
HAND = {0.4: 205.0, 6.0: 342.0, 9.8: 494.0, 10.0: 301.0, 15.0: 401.0}
HAND_PER_PACKAGE = {**HAND, 10.0: 499.0, 15.0: 599.0}  # B_i shares with the 2 copies from 202 / 302


@pytest.mark.parametrize("alpha", sorted(HAND))
def test_hand_count_matches_closed_form(alpha):
    """The hand-counted values are the closed forms' (guards the tables against typos)."""
    assert closed_form(NBYTES * alpha) == pytest.approx(HAND[alpha])
    assert closed_form_per_package(NBYTES * alpha) == pytest.approx(HAND_PER_PACKAGE[alpha])


@pytest.mark.parametrize("engine, streams", [("simpy", "per_link"), ("compiled", "per_link"),
                                             ("simpy", "per_package")])
@pytest.mark.parametrize("alpha", sorted(HAND))
def test_flood_full_graph_makespan_follows_queue_order(alpha, engine, streams):
    """Every engine gives the closed form, on both sides of the jump at T + L = C."""
    hand = HAND_PER_PACKAGE if streams == "per_package" else HAND
    assert makespan(alpha, engine, streams) == pytest.approx(hand[alpha], rel=1e-9)


def test_slower_links_can_shorten_the_makespan():
    """Raising alpha past (C - L) / NBYTES lets B_i overtake the redundant copies: makespan drops."""
    before, after = makespan(9.8, "simpy"), makespan(10.0, "simpy")
    assert after < before
    assert before / after == pytest.approx(494.0 / 301.0)


def sends_on(alpha: float, src: int, dst: int) -> list[tuple[float, tuple[int, ...]]]:
    """(start, packages) of every transfer on direction src->dst, SimPy engine, in start order."""
    graph = nx.complete_graph(N)
    nx.set_edge_attributes(graph, L, "latency")
    result = simulate(graph, synthetic_workload(N, 2, int(C), NBYTES), rates=[1.0] * N,
                      network={"mode": "alpha"}, gossip={"protocol": "flood"}, alpha=alpha, engine="simpy")
    rows = [t for t in result.recorder.transfers() if t["src"] == src and t["dst"] == dst]
    return sorted((t["start"], tuple(t["packages"])) for t in rows)


def test_second_package_waits_behind_flood_copies_only_while_they_come_first():
    """On 0->1, agent 0's second package (task 1) follows the N-2 copies of A_2, A_3 (tasks 4, 6)
    when they arrive before 2C (T = 98: at C + T + L = 199), and precedes them when they arrive
    after (T = 100: at 201)."""
    t = NBYTES * 9.8
    early = sends_on(9.8, 0, 1)
    assert [p for _, p in early[:3]] == [(0,), (4, 6), (1,)]
    assert early[2][0] == pytest.approx(C + t + L + (N - 2) * t)  # 395: behind 2 copies of t each
    late = sends_on(10.0, 0, 1)
    assert [p for _, p in late[:2]] == [(0,), (1,)]
    assert late[1][0] == pytest.approx(max(2 * C, C + NBYTES * 10.0))  # 200: the link is free
