"""Time intervals the figures draw, derived from a run's events: each agent's learning, sending,
receiving and down time, and the spans during which some link is down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sim.experiment.plots.events import Events, Incidents

Interval = tuple[float, float]
LANES = ("learning", "interrupted", "sending", "receiving", "down")


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of intervals as sorted, disjoint intervals (touching ones joined)."""
    out: list[list[float]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def down_intervals(incidents: Incidents, horizon_s: float) -> dict[int, list[Interval]]:
    """Per agent, from each crash to its next recovery (or to the horizon if it never recovers)."""
    events = sorted([(t, 0, a) for t, a in incidents.recovered] + [(t, 1, a) for t, a in incidents.crashed])
    down_since: dict[int, float] = {}
    out: dict[int, list[Interval]] = {}
    for t, is_crash, agent in events:  # recoveries first at one instant: crash-at-recovery stays down
        if is_crash:
            down_since.setdefault(agent, t)
        elif agent in down_since:
            out.setdefault(agent, []).append((down_since.pop(agent), t))
    for agent, t in down_since.items():
        out.setdefault(agent, []).append((t, max(t, horizon_s)))
    return {a: merge(v) for a, v in out.items()}


def agents_down(incidents: Incidents) -> list[tuple[float, int]]:
    """How many agents are down over time, as (time, count) steps from 0 at time 0."""
    steps, down, level = [(0.0, 0)], set(), 0
    changes = sorted([(t, 0, a) for t, a in incidents.recovered] + [(t, 1, a) for t, a in incidents.crashed])
    for t, is_crash, agent in changes:
        (down.add if is_crash else down.discard)(agent)
        if len(down) != level:
            level = len(down)
            if steps[-1][0] == t:
                steps[-1] = (t, level)
            else:
                steps.append((t, level))
    return steps


def learning_intervals(learns: dict[int, list[int]], banked: dict[tuple[int, int], float],
                       recovered: list[tuple[float, int]]) -> dict[int, list[Interval]]:
    """When each agent learned its own tasks (the finished spans of `learning_spans`, no crashes known)."""
    return learning_spans(learns, banked, recovered, [])[0]


def learning_spans(learns: dict[int, list[int]], banked: dict[tuple[int, int], float],
                   recovered: list[tuple[float, int]], crashed: list[tuple[float, int]]
                   ) -> tuple[dict[int, list[Interval]], dict[int, list[Interval]]]:
    """Per agent, its finished and its interrupted learning. Own tasks are learned in order, each
    finishing at its first `banked` row and starting at the previous finish (0 for the first), or
    at the agent's latest recovery before the finish if that is later. A crash while learning ends
    an interrupted span; learning goes on at the next recovery (none: the agent is done). A task
    never banked and not cut by a crash ends the list."""
    ups = _times_by_agent(recovered)
    downs = _times_by_agent(crashed)
    done: dict[int, list[Interval]] = {}
    cut: dict[int, list[Interval]] = {}
    for agent, tasks in learns.items():
        cursor: float | None = 0.0
        mine_done, mine_cut = done.setdefault(agent, []), cut.setdefault(agent, [])
        for task in tasks:
            finish = banked.get((agent, task))
            while cursor is not None:  # crashes before the finish cut the learning short
                crash = next((c for c in downs.get(agent, []) if c >= cursor and (finish is None or c < finish)), None)
                if crash is None:
                    break
                if crash > cursor:
                    mine_cut.append((cursor, crash))
                cursor = next((r for r in ups.get(agent, []) if r > crash), None)  # up again at the same instant: no
            if cursor is None or finish is None:
                break
            start = max([cursor] + [r for r in ups.get(agent, []) if r <= finish])
            mine_done.append((start, finish))
            cursor = finish
    return done, cut


def _times_by_agent(changes: list[tuple[float, int]]) -> dict[int, list[float]]:
    """(time, agent) rows as each agent's sorted times."""
    out: dict[int, list[float]] = {}
    for t, agent in sorted(changes):
        out.setdefault(agent, []).append(t)
    return out


def outage_spans(incidents: Incidents, horizon_s: float) -> list[Interval]:
    """Spans during which at least one link is down. Each edge's down pairs with its next up;
    where the file names no edges, downs and ups are counted instead."""
    changes = sorted([(t, 1, e) for t, e in incidents.link_down] + [(t, -1, e) for t, e in incidents.link_up],
                     key=lambda c: (c[0], c[1]))  # ups before downs at one instant
    down: dict[tuple[int, int] | None, int] = {}
    spans, since = [], None
    for t, step, edge in changes:
        if step < 0 and down.get(edge, 0) == 0:
            continue  # an up with no down before it (e.g. the down was not listed)
        down[edge] = down.get(edge, 0) + step
        total = sum(down.values())
        if total > 0 and since is None:
            since = t
        elif total == 0 and since is not None:
            spans.append((since, t))
            since = None
    if since is not None:
        spans.append((since, max(since, horizon_s)))
    return merge(spans)


@dataclass
class Timeline:
    """The Gantt chart's rows: for each shown agent, its intervals in each lane."""

    agents: list[int]
    lanes: dict[str, dict[int, list[Interval]]] = field(default_factory=dict)
    horizon_s: float = 0.0


def timeline(events: Events, learns: dict[int, list[int]], shown: list[int], horizon_s: float) -> Timeline:
    """Every lane of every shown agent: learning, sending, receiving, down."""
    horizon = max(horizon_s, events.horizon_s)
    wanted = set(shown)
    done, cut = learning_spans({a: t for a, t in learns.items() if a in wanted}, events.banked,
                               events.incidents.recovered, events.incidents.crashed)
    lanes = {
        "learning": done,
        "interrupted": cut,
        "sending": {a: merge(map(tuple, events.sending.get(a, []))) for a in wanted},
        "receiving": {a: merge(map(tuple, events.receiving.get(a, []))) for a in wanted},
        "down": down_intervals(events.incidents, horizon),
    }
    return Timeline(shown, {k: {a: v.get(a, []) for a in shown} for k, v in lanes.items()}, horizon)


def shown_agents(n: int, limit: int, first: Iterable[int] = (), active: Iterable[int] | None = None) -> list[int]:
    """All agents, or `limit` of them: those in `first` (e.g. every crashed agent, at most half the
    rows), then the `active` ones (all agents if None) evenly spread over their ids (first and last
    included), then idle ones the same way if rows are left; in id order."""
    if n <= limit:
        return list(range(n))
    picked = sorted(set(a for a in first if 0 <= a < n))[: limit // 2]
    busy = list(range(n)) if active is None else sorted(set(a for a in active if 0 <= a < n))
    for pool in (busy, [a for a in range(n) if a not in set(busy)]):
        left = [a for a in pool if a not in set(picked)]
        picked += _spread(left, limit - len(picked))
    return sorted(picked)


def _spread(ids: list[int], k: int) -> list[int]:
    """k of the ids evenly spaced over the list (its first and last included), all if k >= len(ids)."""
    if k <= 0:
        return []
    if k >= len(ids):
        return list(ids)
    if k == 1:
        return [ids[0]]
    return [ids[round(i * (len(ids) - 1) / (k - 1))] for i in range(k)]  # distinct: the step is >= 1
