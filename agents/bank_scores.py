"""Evaluations of many banks drawn from one set of packages, each equal to `Agent.evaluate` of an
agent holding that bank, at a small fraction of its cost.

Why it can be exact: without beneficial biases a head classifies the backbone's features of its
own inputs whatever else is banked, so each head's verdict on its own test inputs is computed once,
and a bank's evaluation needs only where its mapper routes each input. With a GMMC mapper a task's
score for an input does not depend on the other tasks banked either (sum of its own components):
every task's scores are computed once and a bank's routing is an argmax over its columns. A
Mahalanobis mapper ties one covariance over the bank, so its routing is recomputed per bank: the
bank's mapper is built as an Agent builds it (the same packages received in the same order, their
exemplars embedded once) and routes the shared test features; the test set and the heads' verdicts
are still shared. Beneficial biases recompute the features per routed batch with the task's biases
in the backbone, so nothing is shared: `supports` says no, and callers evaluate those banks with an
Agent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

import numpy as np

from agents.agent import Agent, Evaluation, HeldOut
from agents.backbone import Backbone
from agents.config import LearnerConfig
from agents.features import FeatureCache
from agents.package import SharePackage
from agents.suites import TaskSuite


def supports(cfg: LearnerConfig) -> bool:
    """Whether banks of this learner's packages share the heads' verdicts (no beneficial biases)."""
    return not cfg.bb.enabled


def decomposes(cfg: LearnerConfig) -> bool:
    """Whether the mapper's scores decompose per task too (GMMC): one argmax per bank."""
    return cfg.mapper.kind == "gmmc" and supports(cfg)


class BankScorer:
    """Every package's scores and verdicts on the suite's test inputs, computed once."""

    def __init__(self, backbone: Backbone, cfg: LearnerConfig, cache: FeatureCache, suite: TaskSuite,
                 packages: Mapping[int, bytes | SharePackage]) -> None:
        if not supports(cfg):
            raise ValueError("banks of packages with beneficial biases share nothing; use Agent")
        self.backbone, self.cfg, self.cache = backbone, cfg, cache
        whole = Agent(-1, backbone, cfg, cache=cache)
        for tid in sorted(packages):  # the order evaluate_survivors banks them in
            whole.receive(packages[tid])
        self.held_out = HeldOut.of(suite, backbone, cache)
        test = self.held_out
        self.tasks = np.asarray(sorted(whole.packages), dtype=np.int64)
        self.verdict = whole._classify(test.images, test.features, test.task) == test.y  # oracle hits, all known
        self.scores = None
        if decomposes(cfg):  # [T, N]: a bank's rows are copied contiguously
            self.tasks = np.asarray(whole.mapper.task_ids, dtype=np.int64)
            self.scores = np.ascontiguousarray(whole.mapper.task_scores(test.features).T) if len(self.tasks) \
                else np.zeros((0, len(test.y)))
        else:  # decoded once, exemplars embedded once: what each bank's mapper receives
            self.packages = {tid: _embedded(whole, pkg) for tid, pkg in whole.packages.items()}

    def evaluate(self, bank: frozenset[int]) -> Evaluation:
        """What Agent.evaluate returns for an agent holding exactly `bank` (task ids of the packages)."""
        test = self.held_out
        known = np.isin(test.task, list(bank))
        if not bank:
            mapped = np.zeros(len(test.y), dtype=bool)
        else:
            columns = np.flatnonzero(np.isin(self.tasks, list(bank)))  # ascending: the bank's order
            if len(columns) != len(bank):
                missing = sorted(set(bank) - set(self.tasks.tolist()))
                raise KeyError(f"tasks {missing} have no package here")
            mapped = self._route(bank, columns) == test.task
        oracle = self.verdict & known
        return test.evaluation(mapped & oracle, mapped, oracle, len(bank))

    def _route(self, bank: frozenset[int], columns: np.ndarray) -> np.ndarray:
        """The task the bank's mapper picks for each test input."""
        if self.scores is not None:
            return self.tasks[columns][np.argmax(self.scores[columns], axis=0)]
        agent = Agent(-1, self.backbone, self.cfg, cache=self.cache)
        for tid in sorted(bank):  # one at a time, in order: the mapper evaluate_survivors' agent builds
            agent.receive(self.packages[tid])
        return np.asarray(agent.mapper.predict(self.held_out.features), dtype=np.int64)


def _embedded(agent: Agent, package: SharePackage) -> SharePackage:
    """`package` with its anchor's exemplar images embedded by `agent`'s backbone, as receiving it
    would embed them (through the feature cache): receivers of the result skip that step."""
    anchor = package.anchor
    if getattr(anchor, "shares_images", False) and anchor.exemplars is None:
        return replace(package, anchor=agent._embed_exemplars(package.task_id, anchor)[0])
    return package
