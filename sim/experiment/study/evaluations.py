"""Evaluations shared by a study's cells: cells that learn the same tasks and end with the same bank
get the same model, so each distinct bank is evaluated once per study, whichever worker meets it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import MutableMapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from agents import atomic
from agents.agent import Evaluation


class EvaluationStore(MutableMapping):
    """bank (frozenset of task ids) -> Evaluation, kept in memory and as JSON files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._memory: dict[frozenset[int], Evaluation] = {}
        self.computed = 0  # evaluations this store received (not found on disk)

    def _path(self, bank: frozenset[int]) -> Path:
        digest = hashlib.sha256(json.dumps(sorted(bank)).encode()).hexdigest()
        return self.root / f"{digest}.json"

    def __contains__(self, bank: object) -> bool:
        return isinstance(bank, frozenset) and (bank in self._memory or self._load(bank) is not None)

    def __getitem__(self, bank: frozenset[int]) -> Evaluation:
        found = self._memory.get(bank) or self._load(bank)
        if found is None:
            raise KeyError(bank)
        return found

    def __setitem__(self, bank: frozenset[int], value: Evaluation) -> None:
        self._memory[bank] = value
        self.computed += 1
        data = asdict(value)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            atomic.write_atomic(self._path(bank), json.dumps(data).encode())
        except OSError:  # a worker that cannot write there keeps it in memory only
            pass

    def __delitem__(self, bank: frozenset[int]) -> None:
        self._memory.pop(bank, None)
        self._path(bank).unlink(missing_ok=True)

    def __iter__(self) -> Iterator[frozenset[int]]:
        return iter(self._memory)

    def __len__(self) -> int:
        return len(self._memory)

    def _load(self, bank: frozenset[int]) -> Evaluation | None:
        try:
            data = json.loads(self._path(bank).read_text())
        except (OSError, ValueError):
            return None
        try:
            for name in ("per_task", "per_task_mapper", "per_task_oracle"):
                data[name] = {int(k): float(v) for k, v in data[name].items()}
            found = Evaluation(**data)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        self._memory[bank] = found
        return found
