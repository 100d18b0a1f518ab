"""Evaluations of many banks drawn from one set of packages, each equal to `Agent.evaluate` of an
agent holding that bank, at a small fraction of its cost.

Why it can be exact: with a GMMC mapper a task's score for an input does not depend on the other
tasks banked (sum of its own components), and without beneficial biases a head classifies the
backbone's features of its own inputs whatever else is banked. So the scores of every task on every
test input, and each head's verdict on its own inputs, are computed once; a bank's evaluation is
then an argmax over its columns. A Mahalanobis mapper (one covariance tied over the bank) and
beneficial biases (features recomputed per routed batch) do not decompose: `supports` says no, and
callers evaluate such banks with an Agent.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from agents.agent import Agent, Evaluation, HeldOut
from agents.backbone import Backbone
from agents.config import LearnerConfig
from agents.features import FeatureCache
from agents.package import SharePackage
from agents.suites import TaskSuite


def supports(cfg: LearnerConfig) -> bool:
    """Whether banks of this learner's packages decompose (GMMC mapper, no beneficial biases)."""
    return cfg.mapper.kind == "gmmc" and not cfg.bb.enabled


class BankScorer:
    """Every package's scores and verdicts on the suite's test inputs, computed once."""

    def __init__(self, backbone: Backbone, cfg: LearnerConfig, cache: FeatureCache, suite: TaskSuite,
                 packages: Mapping[int, bytes | SharePackage]) -> None:
        if not supports(cfg):
            raise ValueError(f"banks of a {cfg.mapper.kind} mapper"
                             f"{' with beneficial biases' if cfg.bb.enabled else ''} do not decompose; use Agent")
        whole = Agent(-1, backbone, cfg, cache=cache)
        for tid in sorted(packages):  # the order evaluate_survivors banks them in
            whole.receive(packages[tid])
        self.held_out = HeldOut.of(suite, backbone, cache)
        test = self.held_out
        self.tasks = np.asarray(whole.mapper.task_ids, dtype=np.int64)
        # [T, N]: a bank's rows are copied contiguously
        self.scores = np.ascontiguousarray(whole.mapper.task_scores(test.features).T) if len(self.tasks) \
            else np.zeros((0, len(test.y)))
        self.verdict = whole._classify(test.images, test.features, test.task) == test.y  # oracle hits, all known

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
            winner = self.tasks[columns][np.argmax(self.scores[columns], axis=0)]
            mapped = winner == test.task
        oracle = self.verdict & known
        return test.evaluation(mapped & oracle, mapped, oracle, len(bank))
