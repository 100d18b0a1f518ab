"""Learning one task: plain data in (task, backbone, config, seed), plain data out (a LearnResult).

A pure function of its inputs, so results are cached by content hash (`ResultStore`) and can run on
any executor. Costs are counted per phase: `features` (backbone forward passes over the training
images), `head`, `bb` (head and beneficial biases trained through the backbone), `anchor`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from agents.anchors import fit_anchor
from agents.atomic import write_atomic
from agents.backbone import Backbone
from agents.biases import train_head_with_biases
from agents.config import LearnerConfig
from agents.features import FeatureCache
from agents.head import train_head
from agents.mapper import create_mapper
from agents.package import SharePackage
from agents.suites import Task

# Bump when learning or the package format changes, so stale cached results are not reused.
RESULT_VERSION = 1


@dataclass(frozen=True)
class LearnResult:
    """What learning one task produced: the package on the wire and what it cost."""

    task_id: int
    package: bytes
    teacher_macs: dict[str, int]
    student_macs: int
    wall_s: float
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def total_macs(self) -> int:
        """Teacher MACs summed over phases."""
        return int(sum(self.teacher_macs.values()))


def learn_task(task: Task, backbone: Backbone, cfg: LearnerConfig, seed: int, cache: FeatureCache) -> LearnResult:
    """Learn a head (and biases, if enabled) and a task anchor for `task`; package them."""
    start = time.perf_counter()
    feats = train_features(task, backbone, cache)
    # Charged even on a cache hit: the simulated agent computed them; the cache is our shortcut.
    macs = {"features": backbone.macs_per_image * len(task.x_train)}
    biases = None
    head = train_head(feats, task.y_train, task.num_classes, cfg.head, seed, backbone.device)
    macs["head"] = head.macs
    if cfg.bb.enabled:
        # Start from the head trained on cached features; biases refine it through the backbone.
        head, biases, macs["bb"] = train_head_with_biases(
            backbone.model, backbone.preprocess, task.x_train, task.y_train, task.num_classes,
            cfg.head, cfg.bb, seed, backbone.device, init_head=head,
        )
    # The anchor lives in the plain (bias-free) feature space: the receiver's mapper must pick a
    # task before it knows whose biases to apply.
    anchor, macs["anchor"] = fit_anchor(feats, task.y_train, cfg.mapper, seed)
    package = SharePackage(
        task_id=task.id, task_name=task.name, classes=tuple(task.classes),
        head_weight=head.weight, head_bias=head.bias, biases=biases, anchor=anchor,
    ).to_bytes(cfg.dtype)
    student_macs = create_mapper(cfg.mapper).add(task.id, anchor)
    return LearnResult(
        task_id=task.id,
        package=package,
        teacher_macs={k: int(v) for k, v in macs.items()},
        student_macs=int(student_macs),
        wall_s=time.perf_counter() - start,
        metrics={"val_accuracy": float(head.val_accuracy), "epochs": float(head.epochs_run)},
    )


def train_features(task: Task, backbone: Backbone, cache: FeatureCache) -> np.ndarray:
    """Backbone features of the task's training images (cached on disk)."""
    return cache.get(backbone, task.x_train, f"{task.fingerprint}/train")


def eval_features(task: Task, backbone: Backbone, cache: FeatureCache) -> np.ndarray:
    """Backbone features of the task's test images (cached on disk); used only for evaluation."""
    return cache.get(backbone, task.x_test, f"{task.fingerprint}/test")


class ResultStore:
    """On-disk cache of LearnResults keyed by a hash of everything that determines them."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def key(self, task: Task, backbone: Backbone, cfg: LearnerConfig, seed: int) -> str:
        """Content hash of task id and data, backbone, learner settings (device excluded) and seed."""
        settings = cfg.model_dump(mode="json", exclude={"device"})
        # task.id goes in too: the package carries it, and task.fingerprint ignores it.
        blob = json.dumps([RESULT_VERSION, task.id, task.fingerprint, backbone.fingerprint, settings, seed],
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, task: Task, backbone: Backbone, cfg: LearnerConfig, seed: int) -> LearnResult | None:
        """The cached result, or None when absent or unreadable (then it is simply relearned)."""
        key = self.key(task, backbone, cfg, seed)
        meta_path, pkg_path = self.root / f"{key}.json", self.root / f"{key}.pkg"
        try:
            meta = json.loads(meta_path.read_text())
            package = pkg_path.read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or len(package) != meta.pop("package_bytes", None):
            return None
        try:
            return LearnResult(package=package, **meta)
        except TypeError:  # foreign or damaged metadata (missing or unknown fields)
            return None

    def put(self, task: Task, backbone: Backbone, cfg: LearnerConfig, seed: int, result: LearnResult) -> None:
        """Store a result: package first, metadata last (its presence marks a complete entry)."""
        key = self.key(task, backbone, cfg, seed)
        self.root.mkdir(parents=True, exist_ok=True)
        meta = {k: v for k, v in asdict(result).items() if k != "package"}
        meta["package_bytes"] = len(result.package)
        write_atomic(self.root / f"{key}.pkg", result.package)
        write_atomic(self.root / f"{key}.json", json.dumps(meta).encode())
