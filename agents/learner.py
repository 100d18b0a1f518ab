"""Learning one task: plain data in (task, backbone, config, seed), plain data out (a LearnResult).

A pure function of its inputs, so results are cached by content hash (`ResultStore`) and can run on
any executor. Costs are counted per phase: `features` (backbone forward passes over the training
images), `head`, `bb` (head and beneficial biases trained through the backbone), `anchor`.

Wall time is one defined thing (`LearnResult.wall_s`): the extraction time stored with the task's
cached features (measured when they were extracted, whichever run did it) plus the time this
learning took for its head, biases, anchor and package. A cache hit on the features therefore does
not shorten it, and each part carries where and when it was measured (`wall_measured`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from agents import timing
from agents.anchors import MahalanobisAnchor, fit_anchor
from agents.atomic import write_atomic
from agents.cache import integrity
from agents.backbone import Backbone
from agents.biases import train_head_with_biases
from agents.config import LearnerConfig
from agents.features import FeatureCache
from agents.head import HeadStart, train_head
from agents.mapper import create_mapper, merge_parts
from agents.package import SharePackage
from agents.suites import Task

# Bump when learning or the package format changes, so stale cached results are not reused.
# 2: wall time = stored feature extraction + this learning's phases, with provenance
# 3: sealed records (agents.cache.integrity); a new key, so builds before seals (which refuse the
#    record's `integrity` field) and after them can share a cache without overwriting each other
RESULT_VERSION = 3


@dataclass(frozen=True)
class LearnResult:
    """What learning one task produced: the package on the wire and what it cost."""

    task_id: int
    package: bytes
    teacher_macs: dict[str, int]
    student_macs: int
    wall_s: float  # features' stored extraction time + this learning's phases (see the module doc)
    metrics: dict[str, float] = field(default_factory=dict)
    wall_by_phase: dict[str, float] = field(default_factory=dict)  # features, head, bb, anchor, package
    # where and when each part was measured: "features" (the extraction) and "learning" (the rest),
    # each {host, device, torch_threads, measured_at}
    wall_measured: dict[str, dict] = field(default_factory=dict)

    @property
    def total_macs(self) -> int:
        """Teacher MACs summed over phases."""
        return int(sum(self.teacher_macs.values()))

    def merge_parts(self, macs_per_image: int) -> tuple[int, int, int]:
        """Its student MACs split as the simulation charges them: (per package, per merge batch,
        per held package and batch); agents.mapper.merge_parts."""
        anchor = SharePackage.from_bytes(self.package).anchor
        return merge_parts(anchor, macs_per_image, self.student_macs)

    def scatter_parts(self) -> tuple[int, int, int]:
        """(exemplars, classes, feature dim) its Mahalanobis anchor adds to a receiver's tied
        scatter (agents.merge_costs.Scatter); (0, 0, 0) for another kind of anchor."""
        anchor = SharePackage.from_bytes(self.package).anchor
        if not isinstance(anchor, MahalanobisAnchor):
            return 0, 0, 0
        return len(anchor.exemplar_labels), len(anchor.class_means), anchor.dim


def learn_task(task: Task, backbone: Backbone, cfg: LearnerConfig, seed: int, cache: FeatureCache,
               start: HeadStart | None = None) -> LearnResult:
    """Learn a head (and biases, if enabled) and a task anchor for `task`; package them.
    `start`: head rows to begin from (knowledge reuse, agents.reuse); None: all rows random."""
    feats, extraction = train_features_timed(task, backbone, cache)
    # Charged even on a cache hit: the simulated agent computed them; the cache is our shortcut.
    macs = {"features": backbone.macs_per_image * len(task.x_train)}
    wall = {"features": float(extraction["wall_s"])}
    biases = None
    mark = timing.clock()
    head = train_head(feats, task.y_train, task.num_classes, cfg.head, seed, backbone.device, start=start)
    macs["head"] = head.macs
    mark = _lap(wall, "head", mark)
    if cfg.bb.enabled:
        # Start from the head trained on cached features; biases refine it through the backbone.
        head, biases, macs["bb"] = train_head_with_biases(
            backbone.model, backbone.preprocess, backbone.bind(task.x_train), task.y_train, task.num_classes,
            cfg.head, cfg.bb, seed, backbone.device, init_head=head, precision=backbone.precision,
        )
        mark = _lap(wall, "bb", mark)
    # The anchor lives in the plain (bias-free) feature space: the receiver's mapper must pick a
    # task before it knows whose biases to apply.
    anchor, macs["anchor"] = fit_anchor(feats, task.y_train, cfg.mapper, seed, images=task.x_train)
    mark = _lap(wall, "anchor", mark)
    package = SharePackage(
        task_id=task.id, task_name=task.name, classes=tuple(task.classes),
        head_weight=head.weight, head_bias=head.bias, biases=biases, anchor=anchor,
    ).to_bytes(cfg.dtype)
    # A receiver's cost of this package landing alone (agents.mapper's cost model): with shared
    # images it first embeds them with its backbone; their features are the teacher's exemplar
    # features (same frozen backbone, same images), so the merge below uses those.
    student_macs = create_mapper(cfg.mapper).add(task.id, anchor)
    if getattr(anchor, "shares_images", False):
        student_macs += backbone.macs_per_image * len(anchor.exemplar_images)
    _lap(wall, "package", mark)
    measured = {"features": {k: v for k, v in extraction.items() if k != "wall_s"},
                "learning": timing.provenance(backbone.device)}
    return LearnResult(
        task_id=task.id,
        package=package,
        teacher_macs={k: int(v) for k, v in macs.items()},
        student_macs=int(student_macs),
        wall_s=float(sum(wall.values())),
        metrics={"val_accuracy": float(head.val_accuracy), "epochs": float(head.epochs_run),
                 **({"reused_rows": float(len(start.rows))} if start is not None else {})},
        wall_by_phase=wall,
        wall_measured=measured,
    )


def _lap(wall: dict[str, float], phase: str, mark: float) -> float:
    """Charge the time since `mark` to `phase`; return the new mark."""
    now = timing.clock()
    wall[phase] = float(now - mark)
    return now


def train_features(task: Task, backbone: Backbone, cache: FeatureCache) -> np.ndarray:
    """Backbone features of the task's training images (cached on disk)."""
    return cache.get(backbone, task.x_train, f"{task.fingerprint}/train")


def train_features_timed(task: Task, backbone: Backbone, cache: FeatureCache) -> tuple[np.ndarray, dict]:
    """`train_features` and the record of their extraction (wall_s, host, device, threads, when)."""
    features, _, record = cache.lookup_timed(backbone, task.x_train, f"{task.fingerprint}/train")
    return features, record


def eval_features(task: Task, backbone: Backbone, cache: FeatureCache) -> np.ndarray:
    """Backbone features of the task's test images (cached on disk); used only for evaluation.
    Lazy images are drawn only when the features are not cached."""
    return cache.get(backbone, task.images("test"), f"{task.fingerprint}/test")


# Settings added after results were first cached, with the value that reproduces the earlier
# behaviour: left out of the key at that value, so that caches from before they existed stay valid.
_LATER_BB_DEFAULTS = {"patience": None, "layers": "all", "skip_redundant": False}


def key_settings(cfg: LearnerConfig) -> dict:
    """The learner settings that determine a result: all but where it runs (device, loader workers),
    the preset's name (its values are in the settings themselves) and backbone.precision (in the
    backbone's fingerprint once resolved)."""
    settings = cfg.model_dump(mode="json", exclude={"device": True, "preset": True, "backbone": {"precision", "workers"}})
    # Reuse decides only the heads learned with matched rows (agents.reuse keys those itself); a
    # task learned from scratch is the same result with reuse on or off, so it shares one entry.
    settings.pop("reuse", None)
    for key, default in _LATER_BB_DEFAULTS.items():
        if key in settings["bb"] and settings["bb"][key] == default:
            del settings["bb"][key]
    return settings


class ResultStore:
    """On-disk cache of LearnResults keyed by a hash of everything that determines them.

    An entry is `<key>.pkg` (the package) and `<key>.json` (the rest, sealed with the package's and the
    key's sha256: agents.cache.integrity); a read that fails the check is reported through `report`
    (default: a CacheWarning), deleted and learned again. Entries from before seals are relearned quietly.
    """

    KIND = "result"

    def __init__(self, root: Path, report: integrity.Report | None = None) -> None:
        self.root = Path(root)
        self.report = report or integrity.warn
        self.discarded = 0

    def key(self, task: Task, backbone: Backbone, cfg: LearnerConfig, seed: int) -> str:
        """Content hash of task id and data, backbone, learner settings (device excluded) and seed."""
        settings = key_settings(cfg)
        # task.id goes in too: the package carries it, and task.fingerprint ignores it.
        blob = json.dumps([RESULT_VERSION, task.id, task.fingerprint, backbone.fingerprint, settings, seed],
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, task: Task, backbone: Backbone, cfg: LearnerConfig, seed: int) -> LearnResult | None:
        """The cached result, or None when absent, stale or bad (then it is simply relearned)."""
        return self.get_key(self.key(task, backbone, cfg, seed))

    def get_key(self, key: str) -> LearnResult | None:
        """`get` by the entry's key."""
        meta_path, pkg_path = self.root / f"{key}.json", self.root / f"{key}.pkg"
        record = integrity.read_record(meta_path)
        if record is None:
            return None
        if isinstance(record, integrity.Unreadable):
            return self._discard(key, f"its record is {record.why}")
        try:
            package = pkg_path.read_bytes()
        except FileNotFoundError:
            return self._discard(key, f"its package {pkg_path.name} is missing")
        verdict = integrity.check_bytes(record, kind=self.KIND, key=key, content=package)
        if verdict.state == "unsealed":
            return None
        if not verdict.sound:
            return self._discard(key, verdict.reason)
        meta = {k: v for k, v in record.items() if k not in (integrity.FIELD, "package_bytes")}
        try:
            result = LearnResult(package=package, **meta)
        except TypeError:  # sealed by a build with other fields
            return self._discard(key, "its record has fields this build does not know")
        measured = result.wall_measured
        if not (isinstance(measured, dict) and all(timing.is_provenance(measured.get(k)) for k in ("features", "learning"))):
            return self._discard(key, "it has no record of where its wall time was measured")
        return result

    def put(self, task: Task, backbone: Backbone, cfg: LearnerConfig, seed: int, result: LearnResult) -> None:
        """Store a result: package first, sealed metadata last (its presence marks a complete entry)."""
        self.put_key(self.key(task, backbone, cfg, seed), result)

    def put_key(self, key: str, result: LearnResult) -> None:
        """Store a result under a key computed elsewhere (a study's driver receiving a worker's results)."""
        self.root.mkdir(parents=True, exist_ok=True)
        meta = {k: v for k, v in asdict(result).items() if k != "package"}
        meta["package_bytes"] = len(result.package)
        sealed = integrity.seal_bytes(meta, kind=self.KIND, key=key, content=result.package)
        write_atomic(self.root / f"{key}.pkg", result.package)
        write_atomic(self.root / f"{key}.json", json.dumps(sealed).encode())

    def _discard(self, key: str, reason: str) -> None:
        self.discarded += 1
        integrity.discard([self.root / f"{key}.pkg", self.root / f"{key}.json"], reason, self.report)
        return None
