"""What the figures read of a run: events.csv streamed into busy spans and first bankings, and the incidents
(crashes, recoveries, link outages) from events.csv or, without it, results.json.

events.csv has the columns `time_s,kind,agent,peer,task,bytes,outcome,end_s,transfer,link_u,link_v`
(one row per package of a transfer; one row per edge of a link event). Files written before that
layout (no `link_u`/`link_v`, semicolon-joined tasks) still read: what they lack stays unknown.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_EVENTS_BYTES = 1 << 30  # above this the event figures are skipped: reading would take minutes


@dataclass
class Incidents:
    """Crashes, recoveries and link events in time order; an edge is None where the file lacks it."""

    crashed: list[tuple[float, int]] = field(default_factory=list)  # (time, agent)
    recovered: list[tuple[float, int]] = field(default_factory=list)
    link_down: list[tuple[float, tuple[int, int] | None]] = field(default_factory=list)  # (time, edge)
    link_up: list[tuple[float, tuple[int, int] | None]] = field(default_factory=list)
    complete: bool = True  # False when results.json listed only the first incidents

    def crash_counts(self) -> dict[int, int]:
        """How many times each agent crashed."""
        counts: dict[int, int] = {}
        for _, agent in self.crashed:
            counts[agent] = counts.get(agent, 0) + 1
        return counts

    def cut_edges(self) -> set[tuple[int, int]]:
        """Every edge that went down at some point (u < v)."""
        return {e for _, e in self.link_down if e is not None}


@dataclass
class Events:
    """What the figures use of events.csv, kept small enough for runs of millions of rows: busy
    intervals per agent (overlapping flows joined as they are read), first bankings, incidents."""

    sending: dict[int, list[list[float]]] = field(default_factory=dict)  # agent -> [start, end] spans
    receiving: dict[int, list[list[float]]] = field(default_factory=dict)
    banked: dict[tuple[int, int], float] = field(default_factory=dict)  # (agent, task) -> first time banked
    incidents: Incidents = field(default_factory=Incidents)
    horizon_s: float = 0.0  # the latest time in the file
    transfer_rows: int = 0


def _busy(spans: dict[int, list[list[float]]], agent: int, start: float, end: float) -> None:
    """Add [start, end] to an agent's spans, joining it to the last one when they overlap (rows
    come in start order, so this keeps the spans few; intervals.merge finishes the union)."""
    mine = spans.setdefault(agent, [])
    if mine and mine[-1][0] <= start <= mine[-1][1]:
        mine[-1][1] = max(mine[-1][1], end)
    else:
        mine.append([start, end])


def _int(text: str) -> int | None:
    """An integer cell; None when empty or not a single integer (e.g. an old '3;4' task list)."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return None
        return int(value) if value.is_integer() else None


def _edge(row: dict[str, str]) -> tuple[int, int] | None:
    """The (u, v) edge of a link row, u < v; None when the row has no link columns."""
    u, v = _int(row.get("link_u") or ""), _int(row.get("link_v") or "")
    return None if u is None or v is None else (min(u, v), max(u, v))


def read_events(path: Path, own: set[tuple[int, int]] | None = None) -> Events:
    """Stream events.csv once. `own`: the (agent, task) pairs whose banking is kept (each agent's
    own tasks, for the timeline); None keeps every first banking."""
    ev = Events()
    inc = ev.incidents
    horizon = 0.0
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            kind = row.get("kind", "")
            time_s = float(row["time_s"])
            horizon = max(horizon, time_s)
            if kind == "transfer":
                end_s = float(row["end_s"]) if row.get("end_s") else time_s
                horizon = max(horizon, end_s)
                _busy(ev.sending, _int(row["agent"]), time_s, end_s)
                _busy(ev.receiving, _int(row["peer"]), time_s, end_s)
                ev.transfer_rows += 1
            elif kind == "banked":
                key = (_int(row["agent"]), _int(row["task"]))
                if own is None or key in own:
                    ev.banked.setdefault(key, time_s)
            elif kind in ("crashed", "recovered"):
                getattr(inc, kind).append((time_s, _int(row["agent"])))
            elif kind in ("link_down", "link_up"):
                getattr(inc, kind).append((time_s, _edge(row)))
    ev.horizon_s = horizon
    return ev


def load_events(out: Path, events_name: str, own: set[tuple[int, int]] | None = None
                ) -> tuple[Events | None, str | None]:
    """events.csv of a run directory (see read_events), or None and a note saying why it cannot be used."""
    path = out / events_name
    if not path.is_file():
        return None, f"no {events_name} (output.events_csv: false?)"
    size = path.stat().st_size
    if size > MAX_EVENTS_BYTES:
        return None, f"{events_name} is {size / 2**30:.1f} GiB, over the {MAX_EVENTS_BYTES / 2**30:.0f} GiB the figures read"
    try:
        return read_events(path, own), None
    except (KeyError, ValueError, TypeError) as exc:
        return None, f"{path} does not have the expected columns ({type(exc).__name__}: {exc})"


def incidents_from_results(data: dict[str, Any]) -> Incidents:
    """The incidents results.json lists: `{"listed": [...], "truncated": bool}`, or an older plain list."""
    raw = data.get("incidents") or []
    listed = raw.get("listed", []) if isinstance(raw, dict) else raw
    inc = Incidents(complete=not (isinstance(raw, dict) and raw.get("truncated")))
    for row in listed:
        kind, time_s = row.get("kind"), float(row.get("time_s", 0.0))
        if kind in ("crashed", "recovered") and row.get("agent") is not None:
            getattr(inc, kind).append((time_s, int(row["agent"])))
        elif kind in ("link_down", "link_up"):
            edges = row.get("edges") or [None]
            for e in edges:
                getattr(inc, kind).append((time_s, None if e is None else (min(e), max(e))))
    return inc


def mark_crashes(ax: Any, incidents: Incidents, recovery_style: str) -> None:
    """A vertical line per agent crash (red) and recovery (green, `recovery_style`), each kind labelled
    with its count, on the axes of a curve over simulated time."""
    if incidents.crashed:
        ax.vlines([t for t, _ in incidents.crashed], 0, 1.02, color="tab:red", lw=1.0,
                  label=f"crash ({len(incidents.crashed)})")
    if incidents.recovered:
        ax.vlines([t for t, _ in incidents.recovered], 0, 1.02, color="tab:green", lw=1.0, ls=recovery_style,
                  label=f"recovery ({len(incidents.recovered)})")
