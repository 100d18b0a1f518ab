"""The incidents of a run (crashes, recoveries, link changes) as results.json summarises them:
counts by kind and the first LISTED in time order, so a churn run's results stay small (the full
list is in events.csv)."""

from __future__ import annotations

from typing import Any, Sequence

from sim.recorder import INCIDENTS, Event

LISTED = 1000  # incidents listed in results.json; the rest are counted


def bank_outcome(event: Event) -> str:
    """What a crash or recovery does to the agent's bank: "bank kept", "bank wiped" or "" (unknown)."""
    if event.keep_bank is None:
        return ""
    return "bank kept" if event.keep_bank else "bank wiped"


def incident_row(event: Event) -> dict[str, Any]:
    """One incident as results.json lists it: agent events name the agent, link events their edges."""
    return {
        "time_s": float(event.time),
        "kind": event.kind,
        "agent": None if event.agent is None else int(event.agent),
        "edges": [[int(u), int(v)] for u, v in event.edges] if event.edges else None,
        "detail": event.detail or bank_outcome(event),
    }


def summarise(events: Sequence[Event], limit: int = LISTED) -> dict[str, Any]:
    """{"total", "by_kind" (every incident kind, zeros included), "listed" (the first `limit` in
    time order), "truncated"}: bounded whatever the churn."""
    by_kind = dict.fromkeys(INCIDENTS, 0)
    for event in events:
        by_kind[event.kind] = by_kind.get(event.kind, 0) + 1
    ordered = sorted(events, key=lambda e: e.time)  # stable: same-time incidents keep their order
    return {
        "total": len(events),
        "by_kind": by_kind,
        "listed": [incident_row(e) for e in ordered[:limit]],
        "truncated": len(events) > limit,
    }
