"""Agent: learn, receive (idempotent), predict and evaluate with no task oracle; real data, real Lite0."""

import dataclasses

import numpy as np
import pytest

from agents.agent import Agent
from agents.backbone import create_backbone
from agents.biases import applied_biases
from agents.config import (BackboneConfig, BBConfig, GMMCConfig, HeadConfig, LearnerConfig,
                           MahalanobisConfig, SuiteConfig)
from agents.errors import LearningError
from agents.features import FeatureCache
from agents.package import SharePackage
from agents.suites import TaskSuite, create_suite

# 48 px: Lite0 features at 32 px blur digits and Fashion-MNIST together (mapper ~0.9 on distinct tasks).
BACKBONE = BackboneConfig(image_size=48)
CFG = LearnerConfig(backbone=BACKBONE, head=HeadConfig(epochs=20, patience=5), mapper=GMMCConfig())
MAHA = CFG.model_copy(update={"mapper": MahalanobisConfig()})


@pytest.fixture(scope="module")
def suite():
    return create_suite(SuiteConfig(num_tasks=4, train_per_class=12, test_per_class=5))


@pytest.fixture(scope="module")
def distinct():
    """Three tasks from three different sources: digits, photo textures, Fashion-MNIST."""
    tasks = [create_suite(SuiteConfig(suite=name, num_tasks=1, train_per_class=60, test_per_class=10)).tasks[0]
             for name in ("digits", "textures", "fashion_mnist")]
    return TaskSuite("distinct", [dataclasses.replace(t, id=i) for i, t in enumerate(tasks)])


@pytest.fixture(scope="module")
def backbone():
    return create_backbone(BACKBONE)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return FeatureCache(tmp_path_factory.mktemp("features"))


@pytest.fixture(scope="module")
def results(suite, backbone, cache):
    """Tasks 0 and 1 of `suite` learned once, each by its own agent (learning ignores the bank)."""
    return {t.id: Agent(t.id, backbone, CFG, cache).learn(t) for t in suite.tasks[:2]}


def test_receiving_the_same_package_twice_is_a_no_op(suite, backbone, cache, results):
    agent = Agent(0, backbone, CFG, cache)
    assert agent.receive(results[0].package) > 0
    before = agent.predict(suite.tasks[0].x_test)
    assert agent.receive(results[0].package) == 0
    assert agent.receive(SharePackage.from_bytes(results[0].package)) == 0
    assert agent.known_tasks == [0] and len(agent.mapper) == 1
    after = agent.predict(suite.tasks[0].x_test)
    assert all(np.array_equal(b, a) for b, a in zip(before, after))


def test_learn_banks_its_own_package(suite, backbone, cache, results):
    agent = Agent(5, backbone, CFG, cache)
    res = agent.learn(suite.tasks[1])
    assert agent.known_tasks == [1]
    assert agent.receive(res.package) == 0
    assert res.student_macs == results[1].student_macs


def test_refused_package_leaves_the_bank_unchanged(suite, backbone, cache, results):
    agent = Agent(0, backbone, MAHA, cache)  # a Mahalanobis mapper cannot take a GMMC anchor
    with pytest.raises(LearningError, match="mahalanobis mapper"):
        agent.receive(results[0].package)
    assert agent.known_tasks == [] and len(agent.mapper) == 0


def test_agent_that_learned_a_and_received_b_classifies_both_with_no_oracle(distinct, backbone, cache):
    a, b = distinct.tasks[0], distinct.tasks[2]  # digits and Fashion-MNIST
    agent = Agent(0, backbone, CFG, cache)
    agent.learn(a)
    agent.receive(Agent(1, backbone, CFG, cache).learn(b).package)
    ev = agent.evaluate(TaskSuite("ab", [a, b]))
    assert ev.tasks_known == 2
    for task in (a, b):
        chance = 1 / task.num_classes
        assert ev.per_task[task.id] > chance and ev.per_task_oracle[task.id] > chance
        tasks, classes = agent.predict(task.x_test)  # the public, uncached path
        assert np.mean(tasks == task.id) == pytest.approx(ev.per_task_mapper[task.id])
        hits = (tasks == task.id) & (classes == task.y_test)
        assert np.mean(hits) == pytest.approx(ev.per_task[task.id])


def test_evaluate_counts_unknown_tasks_as_errors(suite, backbone, cache, results):
    agent = Agent(0, backbone, CFG, cache)
    for tid in (0, 1):
        agent.receive(results[tid].package)
    ev = agent.evaluate(suite)
    assert ev.tasks_known == 2 and set(ev.per_task) == {t.id for t in suite.tasks}
    assert ev.accuracy <= ev.mapper_accuracy + 1e-9 and ev.accuracy <= ev.oracle_accuracy + 1e-9
    for tid in (2, 3):
        assert ev.per_task[tid] == ev.per_task_mapper[tid] == ev.per_task_oracle[tid] == 0.0
    known_share = sum(len(t.y_test) for t in suite.tasks[:2]) / sum(len(t.y_test) for t in suite.tasks)
    assert ev.mapper_accuracy <= known_share + 1e-9 and ev.oracle_accuracy <= known_share + 1e-9
    # Overall numbers are the test-set-weighted means of the per-task ones.
    weights = np.array([len(t.y_test) for t in suite.tasks], dtype=float)
    assert ev.accuracy == pytest.approx(np.dot(weights, [ev.per_task[t.id] for t in suite.tasks]) / weights.sum())


def test_agent_that_knows_nothing_predicts_nothing(suite, backbone, cache):
    agent = Agent(0, backbone, CFG, cache)
    tasks, classes = agent.predict(suite.tasks[0].x_test)
    assert (tasks == -1).all() and (classes == -1).all()
    ev = agent.evaluate(suite)
    assert ev.accuracy == ev.mapper_accuracy == ev.oracle_accuracy == 0.0 and ev.tasks_known == 0


@pytest.mark.parametrize("cfg", [CFG, MAHA], ids=["gmmc", "mahalanobis"])
def test_mapper_is_near_perfect_on_clearly_distinct_tasks(distinct, backbone, cache, cfg):
    agent = Agent(0, backbone, cfg, cache)
    for task in distinct.tasks:
        agent.learn(task)
    ev = agent.evaluate(distinct)
    # GMMC's diagonal Gaussians on 120-240 images per task are the weaker router of the two.
    assert ev.mapper_accuracy >= (0.9 if cfg.mapper.kind == "gmmc" else 0.95), ev.per_task_mapper
    assert ev.oracle_accuracy >= 0.7 and ev.accuracy >= 0.85 * ev.oracle_accuracy


def test_bb_end_to_end_on_a_tiny_task(suite, distinct, backbone, cache):
    task = suite.tasks[0]
    cfg = CFG.model_copy(update={"bb": BBConfig(enabled=True, epochs=1, batch_size=32)})
    agent = Agent(0, backbone, cfg, cache)
    res = agent.learn(task)
    # BB refines a head first trained on cached features: both phases are paid for.
    assert set(res.teacher_macs) == {"features", "head", "bb", "anchor"} and res.teacher_macs["bb"] > 0
    pkg = SharePackage.from_bytes(res.package)
    assert pkg.biases and sum(v.size for v in pkg.biases.values()) > backbone.feature_dim
    plain = backbone.features(task.x_test)
    with applied_biases(backbone.model, pkg.biases):
        biased = backbone.features(task.x_test)
    # Biases that training kept change the features the head sees; all-zero ones (the plain head
    # won on validation) must not.
    trained = any(np.any(v) for v in pkg.biases.values())
    assert np.allclose(plain, biased) != trained
    assert np.array_equal(backbone.features(task.x_test), plain)  # and are gone afterwards
    # A bank of two tasks, so the mapper can misroute: the BB task and a Fashion-MNIST one (no BB).
    other = distinct.tasks[2]
    other_package = Agent(2, backbone, CFG, cache).learn(other).package
    agent.receive(other_package)
    two = TaskSuite("two", [task, other])
    ev = agent.evaluate(two)
    assert min(ev.per_task_mapper.values()) >= 0.8, ev.per_task_mapper
    # Where the mapper is right, the banked head (with its biases for the BB task) decides: no-oracle
    # accuracy is at most the oracle's, and at most the mapper's.
    for tid in (task.id, other.id):
        assert ev.per_task[tid] <= min(ev.per_task_oracle[tid], ev.per_task_mapper[tid]) + 1e-9
    # One epoch of a few steps: too little to promise accuracy, enough to prove the path runs.
    receiver = Agent(1, backbone, cfg, cache)
    receiver.receive(res.package)
    receiver.receive(other_package)
    assert receiver.evaluate(two) == ev


def test_receiver_embeds_shared_images_and_pays_for_them(distinct, backbone, cache):
    """share: images. The package carries m images per class, no exemplar features; the receiver
    embeds them with its own backbone. Its student MACs, counted by hand for c classes, n = 5c
    images and d-D features: n images through the backbone, the rank-n scatter update n*d*d, one
    Cholesky inverse 4*d**3 // 3, and re-caching mu P, mu'P mu for c classes (c*d*d + c*d)."""
    a, b = distinct.tasks[0], distinct.tasks[2]
    images = CFG.model_copy(update={"mapper": MahalanobisConfig(share="images", m=5)})
    features = CFG.model_copy(update={"mapper": MahalanobisConfig(share="features", m=5)})
    res_a, res_b = (Agent(9, backbone, images, cache).learn(t) for t in (a, b))
    pkg = SharePackage.from_bytes(res_a.package)
    n, c, d = 5 * a.num_classes, a.num_classes, backbone.feature_dim
    assert pkg.anchor.exemplars is None and pkg.anchor.exemplar_images.shape == (n, *a.x_train.shape[1:])
    receiver = Agent(1, backbone, images, cache)
    want = n * backbone.macs_per_image + n * d * d + (4 * d**3) // 3 + c * d * d + c * d
    assert receiver.receive(res_a.package) == want == res_a.student_macs
    # Two packages landing together: one inversion, re-caching for all classes held.
    nb, cb = 5 * b.num_classes, b.num_classes
    together = Agent(2, backbone, images, cache)
    assert together.receive_batch([res_a.package, res_b.package]) == (
        (n + nb) * backbone.macs_per_image + (n + nb) * d * d + (4 * d**3) // 3 + (c + cb) * (d * d + d))
    # The embedded images are the exemplars a features package would have carried: same routing.
    receiver.receive(res_b.package)
    plain = Agent(3, backbone, features, cache)
    for t in (a, b):
        plain.receive(Agent(9, backbone, features, cache).learn(t).package)
    x = np.concatenate([a.x_test, b.x_test])
    np.testing.assert_array_equal(receiver.predict(x)[0], plain.predict(x)[0])
    assert len(res_a.package) > len(plain.packages[a.id].to_bytes()) - n * d * 4 + n * a.x_train[0].size
