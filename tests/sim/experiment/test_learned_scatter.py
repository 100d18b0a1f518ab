"""Learning.workload hands the engine what it needs to track receivers' scatters: each Mahalanobis
package's exemplars and classes (read from its bytes) and the feature dim and shrinkage."""

from types import SimpleNamespace

import numpy as np
import pytest

from agents.anchors import MahalanobisAnchor
from agents.config import LearnerConfig
from agents.learner import LearnResult
from agents.mapper import MahalanobisMapper
from agents.merge_costs import Scatter
from agents.package import SharePackage
from sim.experiment.learned import Learning


def _result(task_id, classes, per_class, d=8):
    rng = np.random.default_rng(task_id)
    labels = np.repeat(np.arange(classes), per_class).astype(np.int64)
    means = rng.normal(0, 1, (classes, d)).astype(np.float32)
    anchor = MahalanobisAnchor(means, (means[labels] + rng.normal(0, 1, (len(labels), d))).astype(np.float32), labels)
    package = SharePackage(task_id, "t", tuple(f"c{i}" for i in range(classes)), np.zeros((classes, d), np.float32),
                           np.zeros(classes, np.float32), None, anchor)
    return LearnResult(task_id=task_id, package=package.to_bytes("fp32"), teacher_macs={"head": 1},
                       student_macs=MahalanobisMapper().add(task_id, anchor), wall_s=0.0)


def _learning():
    learned = {0: _result(0, 3, 2), 1: _result(1, 2, 5)}
    return Learning(suite=None, backbone=SimpleNamespace(macs_per_image=0), features=None, learned=learned,
                    wall_s=0.0, cache_hits=0)


@pytest.mark.parametrize("shrinkage, shrunk", [(0.0, False), (0.1, True)])
def test_a_mahalanobis_learner_gives_the_engine_its_scatter(shrinkage, shrunk):
    cfg = LearnerConfig.model_validate({"mapper": {"kind": "mahalanobis", "shrinkage": shrinkage}})
    work = _learning().workload([[0], [1]], cfg)
    assert work.scatter == Scatter(8, shrunk=shrunk)
    assert [(t.exemplars, t.classes) for t in work.tasks] == [(6, 3), (10, 2)]
    assert [t.student_macs for t in work.tasks] == [6 * 64, 10 * 64]  # the scatter updates, per package


def test_without_the_learner_settings_every_batch_re_inverts():
    work = _learning().workload([[0], [1]])
    assert work.scatter is None and work.batched  # batch_macs / hold_macs: full inversions
