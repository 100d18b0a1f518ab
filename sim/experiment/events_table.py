"""events.csv: its columns, the rows of a finished run (one per package carried, bank change and
incident) and the writer. The columns are documented in README.md ("events.csv")."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from sim.experiment import results as files
from sim.experiment.incidents import bank_outcome
from sim.recorder import Event, Recorder

if TYPE_CHECKING:  # sim.simulate pulls in both engines: only its type is needed here
    from sim.simulate import SimResult

COLUMNS = ("time_s", "kind", "agent", "peer", "task", "bytes", "outcome", "end_s", "transfer", "link_u", "link_v")
_TIME, _KIND, _TRANSFER = 0, 1, COLUMNS.index("transfer")


def split_bytes(total: int, packages: list[int], package_bytes: Mapping[int, int]) -> list[int]:
    """A flow's `total` bytes over the packages it carried: each its own size, in the flow's order,
    while bytes last; whatever is left (digests, requests) goes on the last row. Sums to `total`."""
    if not packages:
        return [total]
    shares, left = [], total
    for task in packages[:-1]:
        share = min(int(package_bytes[task]), left)
        shares.append(share)
        left -= share
    return shares + [left]


def transfer_rows(recorder: Recorder, package_bytes: Mapping[int, int]) -> list[list[Any]]:
    """One row per package of every flow (a flow with no package: one row, empty task); the
    `transfer` cell holds the flow's index in the recorder until event_rows numbers the flows."""
    rows = []
    for k, t in enumerate(recorder.transfers()):
        packages = [p for p in t["packages"] if p >= 0]  # negative ids are digests / requests
        shares = split_bytes(int(round(t["bytes"])), packages, package_bytes)
        for task, nbytes in zip(packages or [None], shares):
            rows.append([t["start"], "transfer", t["src"], t["dst"], task, nbytes, t["outcome"], t["end"], k, None, None])
    return rows


def incident_rows(event: Event) -> list[list[Any]]:
    """An agent incident as one row (outcome: bank kept / wiped where known); a link incident as
    one row per edge (outcome: its cause)."""
    if event.kind in ("link_down", "link_up"):
        return [[event.time, event.kind, None, None, None, None, event.cause, None, None, u, v] for u, v in event.edges]
    return [[event.time, event.kind, event.agent, None, None, None, bank_outcome(event), None, None, None, None]]


def event_rows(result: SimResult, package_bytes: Mapping[int, int]) -> list[list[Any]]:
    """Every row of events.csv for a finished run (a SimResult), in time order, cells in COLUMNS
    order; `package_bytes` maps each task id to its package size. Flows are numbered 0, 1, 2, ...
    in the order they appear."""
    rows = transfer_rows(result.recorder, package_bytes)
    rows += [[float(t), "banked" if change > 0 else "removed", a, None, task, None, None, None, None, None, None]
             for t, a, task, change in result.bank_changes()]
    for event in result.recorder.incidents:
        rows += incident_rows(event)
    rows.sort(key=lambda r: r[_TIME])  # stable: a flow's rows stay together, in package order
    numbers: dict[int, int] = {}
    for row in rows:
        if row[_KIND] == "transfer":
            row[_TRANSFER] = numbers.setdefault(row[_TRANSFER], len(numbers))
    return rows


def write_events(path: Path, result: SimResult, package_bytes: Mapping[int, int]) -> None:
    """Write events.csv for a finished run."""
    files.write_csv(path, COLUMNS, event_rows(result, package_bytes))
