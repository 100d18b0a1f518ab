"""What happened: every transfer and bank change, kept compactly, plus progress events for observers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True, slots=True)
class Event:
    """What happened at one instant, for observers and the incident log: time, kind, who and what.

    Incidents carry structured fields so that readers never parse `detail` (a human summary):
    link events name their `edges` (u < v) and their `cause`; crashes and recoveries say whether
    the agent's bank survives (`keep_bank`, None where no recovery is coming).
    """

    time: float
    kind: str  # learned | banked | crashed | recovered | link_down | link_up
    agent: int | None = None
    tasks: tuple[int, ...] = ()
    detail: str = ""
    edges: tuple[tuple[int, int], ...] = ()  # link_down / link_up: the links, each (u, v) with u < v
    cause: str = ""  # link_down / link_up: one of LINK_CAUSES
    keep_bank: bool | None = None  # crashed / recovered: the bank is kept (True) or wiped (False)


OUTCOMES = ("delivered", "lost", "cut")
INCIDENTS = ("crashed", "recovered", "link_down", "link_up")  # failures and repairs, kept by the recorder
LINK_CAUSES = ("scheduled", "partition", "random")


class Recorder:
    """Transfer rows in growing lists (packages of all transfers in one int32 array) and bank changes.

    A transfer is one flow: several packages sent back to back on one link direction. Its outcome
    is "delivered" (every item arrived), "lost" (some items lost on the way) or "cut" (an outage or
    crash stopped it). Bank additions live in the engine's (agents x tasks) merge-time matrix;
    removals (crash with the bank wiped) are logged with the time the entry had been banked.
    Incidents (crashes, recoveries, link changes) are kept in `incidents`, in time order, whether
    or not an observer listens.
    """

    def __init__(self, observer: Callable[[Event], None] | None = None, packages: bool = True) -> None:
        self.observer = observer
        self.keep_packages = packages  # False: keep transfer rows but not their package lists
        self.start: list[float] = []
        self.end: list[float] = []
        self.src: list[int] = []
        self.dst: list[int] = []
        self.nbytes: list[float] = []
        self.outcome: list[int] = []
        self._chunks: list[np.ndarray] = []
        self._offsets = [0]
        self._bulk: dict[str, np.ndarray] | None = None  # rows logged at once by the compiled loop
        self._directions: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # ... and their links
        self._order: np.ndarray | None = None  # rows in finish order, sorted on first read
        self.incidents: list[Event] = []

    def transfer(self, start: float, end: float, src: int, dst: int, nbytes: float, outcome: str,
                 ids: np.ndarray) -> None:
        """Log one finished flow (`outcome` one of OUTCOMES; `ids` the items it carried)."""
        self.start.append(start)
        self.end.append(end)
        self.src.append(src)
        self.dst.append(dst)
        self.nbytes.append(nbytes)
        self.outcome.append(OUTCOMES.index(outcome))
        self._order = None
        if self.keep_packages:
            self._chunks.append(ids.astype(np.int32))
            self._offsets.append(self._offsets[-1] + len(ids))

    def add_flows(self, start: np.ndarray, end: np.ndarray, direction: np.ndarray, dir_src: np.ndarray,
                  dir_dst: np.ndarray, nbytes: np.ndarray, packages: np.ndarray | None = None,
                  offsets: np.ndarray | None = None) -> None:
        """Log a whole run's delivered flows at once, as arrays in any order (the compiled loop's
        output): flow k went on link direction direction[k], from dir_src to dir_dst of it, and
        carried packages[offsets[k]:offsets[k + 1]]. Rows are read in finish order, as the SimPy
        engine logs them (sorted, and senders and receivers looked up, on first read: a large run
        may never read them)."""
        if len(self.start) or self._bulk is not None:
            raise ValueError("add_flows logs a whole run at once, into an empty recorder")
        self._bulk = {"start": start, "end": end, "nbytes": nbytes}
        self._directions = (direction, dir_src, dir_dst)
        if self.keep_packages and packages is not None:
            self._chunks = [packages.astype(np.int32, copy=False)]
            self._offsets = offsets

    def _bulk_rows(self) -> dict[str, np.ndarray]:
        """The compiled loop's rows, senders and receivers looked up from their directions once."""
        if self._directions is not None:
            direction, dir_src, dir_dst = self._directions
            self._bulk.update(src=dir_src[direction], dst=dir_dst[direction])
            self._directions = None
        return self._bulk

    def _index(self, i: int) -> int:
        """Where the i-th flow to finish is stored. Finish order is by end time, then start, sender
        and receiver: flows that end at one instant are listed the same way whichever engine ran
        (the SimPy engine logs them as they end, the compiled loops all at once)."""
        if self._order is None:
            cols = self._bulk_rows() if self._bulk is not None else {k: np.asarray(getattr(self, k)) for k in ("start", "end", "src", "dst")}
            self._order = np.lexsort((cols["dst"], cols["src"], cols["start"], cols["end"]))
        return int(self._order[i])

    def _row(self, i: int) -> dict:
        """Transfer i as a JSON-friendly row."""
        if self._bulk is not None:
            b, k = self._bulk_rows(), self._index(i)
            start, end, src, dst, nbytes = (b["start"][k], b["end"][k], b["src"][k], b["dst"][k], b["nbytes"][k])
            outcome = 0
        else:
            k = self._index(i)
            start, end, src, dst = self.start[k], self.end[k], self.src[k], self.dst[k]
            nbytes, outcome = self.nbytes[k], self.outcome[k]
        return {"start": float(start), "end": float(end), "src": int(src), "dst": int(dst),
                "packages": list(self.packages(i)), "bytes": float(nbytes), "outcome": OUTCOMES[outcome]}

    def emit(self, event: Event) -> None:
        """Keep an incident; pass every event to the observer, if any."""
        if event.kind in INCIDENTS:
            self.incidents.append(event)
        if self.observer is not None:
            self.observer(event)

    @property
    def wants_events(self) -> bool:
        """True when someone listens, so callers can skip building events."""
        return self.observer is not None

    def __len__(self) -> int:
        return len(self._bulk["start"]) if self._bulk is not None else len(self.start)

    def packages(self, i: int) -> tuple[int, ...]:
        """Package ids of transfer i (negative ids are digests)."""
        if not self.keep_packages:
            return ()
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        k = self._index(i)
        return tuple(self._chunks[0][self._offsets[k]:self._offsets[k + 1]].tolist())

    def columns(self) -> dict[str, np.ndarray]:
        """Every transfer's start, end, src, dst and bytes as arrays, in finish order (as
        `transfers` lists them, without building a row per transfer)."""
        cols = self._bulk_rows() if self._bulk is not None else {k: getattr(self, k) for k in ("start", "end", "src", "dst", "nbytes")}
        order = np.zeros(0, dtype=np.int64)
        if len(self):
            self._index(0)  # sorts the rows into finish order, once
            order = self._order
        return {k: np.asarray(cols[k], dtype=np.int64 if k in ("src", "dst") else np.float64)[order]
                for k in ("start", "end", "src", "dst", "nbytes")}

    def transfers(self) -> list[dict]:
        """Every transfer as a JSON-friendly row."""
        return [self._row(i) for i in range(len(self))]
