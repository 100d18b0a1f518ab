"""Knowledge reuse (the paper's Sec. 7.2): a new task's head starts from the rows of the classes it
matches in the learner's bank, each divided by its infinity norm, and trains with every row so
normalised (at a fresh row's size: agents.head.InfNormLinear); unmatched rows start at random.
Early stopping then decides the epochs, so a head that starts close to its optimum stops sooner and
costs fewer counted MACs.

Matching, per new class (`ReuseConfig.match`):
- "names": the banked class whose name is most similar (difflib's ratio of the lower-cased,
  stripped names; equal names score 1) if that is at least the threshold (default 1: equal only);
- "visual" (the paper's Sec. 8): `shots` training images of the class go through the bank's task
  mapper and then the head of the task it picks; the banked (task, class) most of them land on is
  matched if its share of the shots is at least the threshold (default 0.5). Its cost is counted
  (`visual_macs`) as the phase "reuse_match".
Ties go to the lowest task id, then the lowest row, so a match is a function of the bank's content.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from agents.anchors import GMMCAnchor, MahalanobisAnchor
from agents.backbone import Backbone
from agents.class_names import name_similarity
from agents.config import LearnerConfig, ReuseConfig
from agents.features import FeatureCache
from agents.head import HeadStart
from agents.package import SharePackage
from agents.suites import Task

# Bump when how a head starts from banked rows changes, so cached reused lessons are relearned.
# 2: rows used at a fresh row's size (InfNormLinear.scale), not at infinity norm 1
START_VERSION = 2


@dataclass(frozen=True)
class Match:
    """New class `row` starts from row `banked_row` of banked task `task_id` (similarity `score`)."""

    row: int
    task_id: int
    banked_row: int
    score: float


def match_names(classes: tuple[str, ...], bank: Mapping[int, SharePackage], threshold: float) -> list[Match]:
    """Each new class's most similar banked class by name, where at least `threshold` similar."""
    matches = []
    for row, name in enumerate(classes):
        best: Match | None = None
        for tid in sorted(bank):
            for j, other in enumerate(bank[tid].classes):
                score = name_similarity(name, other)
                if score >= threshold and (best is None or score > best.score):
                    best = Match(row, tid, j, score)
        if best is not None:
            matches.append(best)
    return matches


def shot_indices(labels: np.ndarray, num_classes: int, shots: int, seed: int) -> list[np.ndarray]:
    """Up to `shots` training indices of each class, drawn without replacement from `seed`."""
    rng = np.random.default_rng([seed, 7])
    out = []
    for c in range(num_classes):
        idx = np.flatnonzero(labels == c)
        out.append(np.sort(rng.permutation(idx)[:shots]))
    return out


def match_visual(shots: list[np.ndarray], routed: tuple[np.ndarray, np.ndarray], threshold: float) -> list[Match]:
    """Matches from where each class's shots landed: `routed` = (task, class) per shot, in the order
    of the concatenated `shots` index lists; a class whose most common landing has at least
    `threshold` of its shots is matched to it."""
    tasks, rows = routed
    matches, start = [], 0
    for row, idx in enumerate(shots):
        landed = Counter((int(t), int(r)) for t, r in zip(tasks[start:start + len(idx)], rows[start:start + len(idx)])
                         if t >= 0)
        start += len(idx)
        if not landed:
            continue
        top = max(landed.values())
        (tid, j) = min(k for k, v in landed.items() if v == top)
        share = top / len(idx)
        if share >= threshold:
            matches.append(Match(row, tid, j, float(share)))
    return matches


def visual_macs(bank: Mapping[int, SharePackage], n_shots: int, dim: int, backbone_macs: int) -> int:
    """MACs of routing `n_shots` features through the bank: the mapper scores every anchor component
    (GMMC: a diagonal quadratic form, 2 D each) or every class under the tied precision (Mahalanobis:
    D^2 once plus D per class), then one head of c rows (D each; a head with beneficial biases first
    reruns the backbone). The mapper pick costs at most what the full scoring does."""
    per_shot, heads = 0, 0
    for package in bank.values():
        anchor = package.anchor
        if isinstance(anchor, GMMCAnchor):
            per_shot += 2 * dim * len(anchor.means)
        else:
            per_shot += dim * len(anchor.class_means)
        heads = max(heads, dim * len(package.classes) + (backbone_macs if package.biases is not None else 0))
    if any(isinstance(p.anchor, MahalanobisAnchor) for p in bank.values()):
        per_shot += dim * dim
    return int(n_shots * (per_shot + heads))


def head_start(matches: list[Match], bank: Mapping[int, SharePackage], normalised: bool = True) -> HeadStart | None:
    """The matched banked rows, each weight row and its bias divided by the row's infinity norm;
    `normalised`: the head trains with every row so divided (ReuseConfig.train)."""
    if not matches:
        return None
    weights, biases = [], []
    for m in matches:
        package = bank[m.task_id]
        w = np.asarray(package.head_weight, dtype=np.float32)[m.banked_row]
        b = float(np.asarray(package.head_bias, dtype=np.float32)[m.banked_row])
        norm = max(float(np.abs(w).max()), 1e-12)
        weights.append(w / norm)
        biases.append(b / norm)
    return HeadStart(rows=tuple(m.row for m in matches), weight=np.stack(weights).astype(np.float32),
                     bias=np.asarray(biases, dtype=np.float32), normalised=normalised)


def find_matches(task: Task, bank: Mapping[int, SharePackage], cfg: LearnerConfig, backbone: Backbone,
                 cache: FeatureCache, seed: int) -> tuple[list[Match], int]:
    """The new task's matches in `bank` under cfg.reuse, and the MACs the matching cost (0 for names)."""
    reuse: ReuseConfig = cfg.reuse
    if not bank:
        return [], 0
    if reuse.match == "names":
        return match_names(task.classes, bank, reuse.cutoff), 0
    from agents.agent import Agent  # agents.agent imports the learner, which this module serves
    from agents.learner import train_features

    shots = shot_indices(task.y_train, task.num_classes, reuse.shots, seed)
    picked = np.concatenate(shots)
    feats = train_features(task, backbone, cache)[picked]
    images = backbone.bind(task.x_train)[picked] if any(p.biases is not None for p in bank.values()) else None
    agent = Agent(-1, backbone, cfg, cache=cache)
    agent.receive_batch([bank[t] for t in sorted(bank)])
    routed = agent.route(feats, images)
    macs = visual_macs(bank, len(picked), feats.shape[1], backbone.macs_per_image)
    return match_visual(shots, routed, reuse.cutoff), macs
