"""On-disk cache of bank evaluations: what an agent holding a given set of packages scores on every
task's test set with no oracle depends only on those packages and the evaluation's settings, so it
is computed once and found again by any later run or study cell whose bank holds the same packages.

An entry is named by the sha256 of its key: the cache version, the evaluation settings (backbone
fingerprint, the learner settings that decide a result, the suite's fingerprint: every test set)
and the bank as (task id, sha256 of the package bytes) pairs. Packages are named by their content,
not by the run that made them, so a co-simulated run's relearned package is another bank. The
entry is `<name>.eval` (the Evaluation as JSON) and `<name>.json` (a sealed record, written last:
agents.cache.integrity); a read that fails its check is reported, deleted and evaluated again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from agents.atomic import write_atomic
from agents.cache import integrity

if TYPE_CHECKING:  # only for type hints: reading and writing entries needs nothing of torch
    from agents.agent import Evaluation

FOLDER = "evaluations"
SUFFIX = ".eval"
# Bump when an evaluation of the same packages would come out differently.
VERSION = 1
_PER_TASK = ("per_task", "per_task_mapper", "per_task_oracle")


def settings_key(backbone_fingerprint: str, learner_settings: dict, suite_fingerprint: str) -> str:
    """The inputs of an evaluation other than the bank, as one string."""
    return json.dumps([backbone_fingerprint, learner_settings, suite_fingerprint], sort_keys=True)


class EvaluationCache:
    """Evaluations of banks drawn from `packages` (task id -> package bytes) under `settings`
    (settings_key), as files under `root/evaluations/`; counts hits, misses and discarded entries."""

    KIND = "evaluation"

    def __init__(self, root: Path, settings: str, packages: Mapping[int, bytes],
                 report: integrity.Report | None = None) -> None:
        self.folder = Path(root) / FOLDER
        self.settings = settings
        self.digests = {int(tid): hashlib.sha256(data).hexdigest() for tid, data in packages.items()}
        self.report = report or integrity.warn
        self.hits = self.misses = self.discarded = 0

    def key(self, bank: frozenset[int]) -> str:
        """What an entry for `bank` is stored for: version, settings and each package's digest."""
        return json.dumps([VERSION, self.settings, [[tid, self.digests[tid]] for tid in sorted(bank)]])

    def path_for(self, bank: frozenset[int]) -> Path:
        """The content file that holds (or will hold) the evaluation of `bank`."""
        return self.folder / f"{integrity.sha256_hex(self.key(bank))}{SUFFIX}"

    def get(self, bank: frozenset[int]) -> Evaluation | None:
        """The cached evaluation of `bank`; None when absent, stale or bad (bad ones are discarded)."""
        key, path = self.key(bank), self.path_for(bank)
        record = integrity.read_record(path.with_suffix(".json"))
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = None
        if record is None or data is None:
            if record is not None:
                return self._miss(path, f"its {SUFFIX} file is missing")
            return self._miss()
        if isinstance(record, integrity.Unreadable):
            return self._miss(path, f"its record is {record.why}")
        verdict = integrity.check_bytes(record, kind=self.KIND, key=key, content=data)
        if verdict.state == "unsealed":
            return self._miss()
        if not verdict.sound:
            return self._miss(path, verdict.reason)
        found = _decode(data)
        if found is None:
            return self._miss(path, "its content is not an evaluation")
        self.hits += 1
        return found

    def put(self, bank: frozenset[int], evaluation: Evaluation) -> None:
        """Store the evaluation of `bank`: content first, the sealed record last (it completes the entry)."""
        key, path = self.key(bank), self.path_for(bank)
        data = json.dumps(asdict(evaluation)).encode()
        sealed = integrity.seal_bytes({"tasks": len(bank)}, kind=self.KIND, key=key, content=data)
        write_atomic(path, data)
        write_atomic(path.with_suffix(".json"), json.dumps(sealed).encode())

    def _miss(self, path: Path | None = None, reason: str = "") -> None:
        self.misses += 1
        if path is not None:
            self.discarded += 1
            integrity.discard([path, path.with_suffix(".json")], reason, self.report)
        return None


def _decode(data: bytes) -> Evaluation | None:
    """The Evaluation held in an entry's JSON (per-task keys back to ints), or None if malformed."""
    from agents.agent import Evaluation

    try:
        fields = json.loads(data)
        for name in _PER_TASK:
            fields[name] = {int(k): float(v) for k, v in fields[name].items()}
        return Evaluation(**fields)
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        return None
