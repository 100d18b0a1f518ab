"""A study's finished cells, one small JSON record each under `.store/<key>.json`, keyed by the hash
of the cell's fully resolved scenario: written atomically once the cell's run directory is in place,
so an interrupted study resumes from what finished, and a new axis value runs only its new cells."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.experiment import results as files

STORE = ".store"
CELLS = "cells"
EVALUATIONS = ".evaluations"


class CellStore:
    """The records of a study directory's finished cells."""

    def __init__(self, study_dir: Path) -> None:
        self.root = Path(study_dir) / STORE

    def get(self, key: str) -> dict[str, Any] | None:
        """The record of the cell with this key, or None (absent or unreadable: then it reruns)."""
        try:
            record = json.loads((self.root / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("key") == key else None

    def done(self, key: str) -> bool:
        """Whether this cell finished successfully before (a failed cell is tried again)."""
        record = self.get(key)
        return record is not None and record.get("status") == "ok"

    def put(self, record: dict[str, Any]) -> None:
        """Store one cell's record atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        files.write_json(self.root / f"{record['key']}.json", record)
