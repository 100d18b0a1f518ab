"""A Lightweight Lifelong Learning agent: learns tasks, banks received share packages, and classifies
any input with no task oracle (its task mapper picks the task, the banked head picks the class).

No SimPy here: the simulator decides *when* an agent learns or receives; this decides *what* it knows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import torch

from agents.anchors import MahalanobisAnchor
from agents.backbone import Backbone
from agents.biases import applied_biases
from agents.config import LearnerConfig
from agents.features import FeatureCache
from agents.learner import LearnResult, eval_features, learn_task
from agents.mapper import create_mapper
from agents.package import SharePackage
from agents.suites import TaskSuite
from agents.suites.files import concat_images
from agents.suites.lazy import ConcatImages


@dataclass(frozen=True)
class Evaluation:
    """Accuracy of one agent on every task's test set: with no oracle, of the mapper, with an oracle.

    Test inputs of tasks the agent does not know count as errors in all three.
    """

    accuracy: float
    mapper_accuracy: float
    oracle_accuracy: float
    per_task: dict[int, float] = field(default_factory=dict)
    per_task_mapper: dict[int, float] = field(default_factory=dict)
    per_task_oracle: dict[int, float] = field(default_factory=dict)
    tasks_known: int = 0


@dataclass(frozen=True)
class HeldOut:
    """Every task's test inputs in one batch: backbone features, images (bound to the backbone),
    labels and the task each input belongs to."""

    features: np.ndarray
    images: np.ndarray | ConcatImages  # indexed by rows only where a banked head has biases
    y: np.ndarray
    task: np.ndarray
    task_ids: tuple[int, ...]

    @property
    def _sorted(self) -> bool:
        return all(a < b for a, b in zip(self.task_ids, self.task_ids[1:]))

    @classmethod
    def of(cls, suite: TaskSuite, backbone: Backbone, cache: FeatureCache) -> "HeldOut":
        """The suite's test sets, features read through the cache."""
        feats = [eval_features(task, backbone, cache) for task in suite.tasks]
        images = backbone.bind(concat_images([task.images("test") for task in suite.tasks]))
        owners = [np.full(len(task.y_test), task.id) for task in suite.tasks]
        return cls(np.concatenate(feats), images, np.concatenate([task.y_test for task in suite.tasks]),
                   np.concatenate(owners), tuple(task.id for task in suite.tasks))

    def evaluation(self, correct: np.ndarray, mapped: np.ndarray, oracle: np.ndarray, known: int) -> Evaluation:
        """The Evaluation of per-input hits: correct with no oracle, routed to the own task, correct
        with an oracle."""
        position = np.searchsorted(self.task_ids, self.task) if self._sorted else None
        counts = np.bincount(position, minlength=len(self.task_ids)) if position is not None else None

        def per(hits: np.ndarray) -> dict[int, float]:
            if position is None:
                return {t: float(hits[self.task == t].mean()) for t in self.task_ids}
            # The same exact sums of 0/1 over the same counts as hits[task == t].mean(), at once.
            sums = np.bincount(position, weights=hits.astype(np.float64), minlength=len(self.task_ids))
            return {t: float(s / c) if c else float("nan") for t, s, c in zip(self.task_ids, sums, counts)}

        return Evaluation(
            accuracy=float(correct.mean()),
            mapper_accuracy=float(mapped.mean()),
            oracle_accuracy=float(oracle.mean()),
            per_task=per(correct),
            per_task_mapper=per(mapped),
            per_task_oracle=per(oracle),
            tasks_known=known,
        )


class Agent:
    """One agent on a shared frozen backbone: a bank of heads plus one task mapper."""

    def __init__(self, agent_id: int, backbone: Backbone, cfg: LearnerConfig, cache: FeatureCache | None = None) -> None:
        self.agent_id = agent_id
        self.backbone = backbone
        self.cfg = cfg
        self.cache = cache if cache is not None else FeatureCache()
        self.packages: dict[int, SharePackage] = {}
        self.mapper = create_mapper(cfg.mapper)

    @property
    def known_tasks(self) -> list[int]:
        """Ids of the tasks this agent can solve, in the order it got them."""
        return list(self.packages)

    def learn(self, task, seed: int = 0) -> LearnResult:
        """Learn `task` for real and bank the resulting package."""
        result = learn_task(task, self.backbone, self.cfg, seed, self.cache)
        self.receive(result.package)
        return result

    def receive(self, package: bytes | SharePackage) -> int:
        """Bank a share package; return the student MACs of merging it (0 if already known)."""
        return self.receive_batch([package])

    def receive_batch(self, packages: list[bytes | SharePackage]) -> int:
        """Bank packages that landed together; return their student MACs: embedding any exemplar
        images with this agent's backbone (macs_per_image each), each anchor's incremental merge,
        and the mapper's per-batch work once (agents.mapper's cost model). Known tasks cost 0."""
        fresh: dict[int, SharePackage] = {}
        for package in packages:
            if isinstance(package, (bytes, bytearray)):
                package = SharePackage.from_bytes(bytes(package))
            if package.task_id not in self.packages:
                fresh.setdefault(package.task_id, package)
        if not fresh:
            return 0
        macs, anchors = 0, []
        for tid, package in fresh.items():
            anchor = package.anchor
            if getattr(anchor, "shares_images", False) and anchor.exemplars is None:
                anchor, cost = self._embed_exemplars(tid, anchor)
                macs += cost
            anchors.append((tid, anchor))
        # Merge first: a refused anchor (wrong mapper kind or feature dim) must leave the bank as it was.
        macs += int(self.mapper.add_batch(anchors))
        self.packages.update(fresh)
        return macs

    def _embed_exemplars(self, task_id: int, anchor: MahalanobisAnchor) -> tuple[MahalanobisAnchor, int]:
        """The anchor with its exemplar images embedded by this agent's backbone (through the
        feature cache, keyed by the images' content), and the MACs the agent spent on it."""
        images = np.asarray(anchor.exemplar_images)
        digest = hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()
        key = f"exemplars/{images.shape}/{digest}"
        features = self.cache.get(self.backbone, images, key)
        return anchor.with_features(features), int(self.backbone.macs_per_image) * len(images)

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Task id and class index for each image, with no task oracle (-1, -1 when nothing is known)."""
        return self._predict_features(np.asarray(images), self.backbone.features(images))

    def route(self, feats: np.ndarray, images: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Task id and class index of each feature row with no oracle (as `predict`, from features the
        caller has); `images`, the rows' images, are needed only when a banked head has biases."""
        return self._predict_features(images, np.asarray(feats))

    def evaluate(self, suite: TaskSuite) -> Evaluation:
        """Accuracy on all tasks' test sets: no oracle, task-mapper only, and with a perfect oracle."""
        test = HeldOut.of(suite, self.backbone, self.cache)
        pred_task, pred_class = self._predict_features(test.images, test.features)
        oracle_class = self._classify(test.images, test.features, test.task)
        mapped = pred_task == test.task
        return test.evaluation(mapped & (pred_class == test.y), mapped, oracle_class == test.y, len(self.packages))

    def _predict_features(self, images: np.ndarray, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.packages:
            return np.full(len(feats), -1), np.full(len(feats), -1)
        tasks = np.asarray(self.mapper.predict(feats), dtype=np.int64)
        return tasks, self._classify(images, feats, tasks)

    def _classify(self, images: np.ndarray, feats: np.ndarray, tasks: np.ndarray) -> np.ndarray:
        """Class index from the head of each input's given task; -1 where that task is unknown."""
        out = np.full(len(feats), -1, dtype=np.int64)
        for tid in np.unique(tasks):
            pkg = self.packages.get(int(tid))
            if pkg is None:
                continue
            rows = np.flatnonzero(tasks == tid)
            x = feats[rows]
            if pkg.biases is not None:
                # Beneficial biases change the features themselves: rerun the backbone with them.
                with applied_biases(self.backbone.model, pkg.biases), torch.no_grad():
                    x = self.backbone.features(images[rows])
            logits = x @ np.asarray(pkg.head_weight, dtype=np.float32).T + np.asarray(pkg.head_bias, dtype=np.float32)
            out[rows] = logits.argmax(axis=1)
        return out
