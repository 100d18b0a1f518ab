"""Checks of what a scenario needs from this machine, before any learning: writable folders, a
backbone that exists with the weights asked for, a device that is present.

Cheap for the defaults: timm and torch are imported only when the scenario names a backbone or a
device other than the default (a few seconds), never for `tiny` or any shipped scenario.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from agents.errors import LearningError
from sim.errors import ScenarioError, SimError
from sim.experiment.scenario import Scenario

DEFAULT_BACKBONE = "tf_efficientnet_lite0"  # the one backbone with offline weights (agents.weights)


def check_folder(path: Path | None, what: str) -> None:
    """A folder the command will create or write into: not empty, not a file nor below one, and
    writable (probed by making, then removing, a folder in its nearest existing parent)."""
    if path is None:
        return
    if str(path) == "":
        raise ScenarioError(f"{what}: an empty path; name a folder")
    path = Path(path).expanduser()
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                named = "is" if folder == path else f"is inside {str(folder)!r}, which is"
                raise ScenarioError(f"{what}: {str(path)!r} {named} a file, not a folder; choose a folder")
            _probe_writable(folder, path, what)
            return


def _probe_writable(folder: Path, path: Path, what: str) -> None:
    """ScenarioError unless a folder can be made in `folder` (os.access alone misleads root)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ScenarioError(f"{what}: {str(path)!r} cannot be written ({str(folder)!r} is not writable); "
                            "choose a folder you can write")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".skill-sim-probe-", dir=folder))
    except OSError as exc:
        raise ScenarioError(f"{what}: {str(path)!r} cannot be written ({exc.strerror} in {str(folder)!r}); "
                            "choose a folder you can write") from None


def check_out(path: Path | None) -> None:
    """The run directory: a writable folder that a run may replace (rundir.check_target)."""
    if path is None:
        return
    check_folder(path, "--out / output.dir")
    from sim.experiment import rundir

    try:
        rundir.check_target(Path(path))
    except SimError as exc:
        raise ScenarioError(str(exc)) from None


def check_backbone(scenario: Scenario, source: str) -> None:
    """The backbone is a timm model, `weights: offline` only with the one that has offline weights,
    and every pattern of `bb.layers` names one of its layers."""
    backbone = scenario.learner.backbone
    if backbone.name == DEFAULT_BACKBONE:
        _check_bias_layers(scenario, source)
        return
    if backbone.weights == "offline":
        raise ScenarioError(
            f"{source}: learner.backbone.name = {backbone.name!r}: weights 'offline' exist only for "
            f"{DEFAULT_BACKBONE!r}; set learner.backbone.weights to 'random', 'pretrained' or a checkpoint "
            f"file, or use {DEFAULT_BACKBONE!r}"
        )
    import timm

    if not timm.is_model(backbone.name):
        near = difflib.get_close_matches(backbone.name, timm.list_models(), n=3)
        hint = f" Did you mean {', '.join(map(repr, near))}?" if near else ""
        raise ScenarioError(f"{source}: learner.backbone.name = {backbone.name!r}: not a timm model.{hint} "
                            "`skill-sim list backbones --all` lists every name")
    _check_bias_layers(scenario, source)


def _check_bias_layers(scenario: Scenario, source: str) -> None:
    bb = scenario.learner.bb
    if not bb.enabled:
        return
    from agents.bias_layers import check_layer_pattern

    try:
        check_layer_pattern(scenario.learner.backbone.name, bb.layers)
    except LearningError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def check_device(scenario: Scenario, source: str) -> None:
    """A device other than auto / cpu must exist on this machine (torch is imported only then)."""
    device = scenario.learner.device
    if device in ("auto", "cpu"):
        return
    from agents.device import best_device

    try:
        best_device(device)
    except LearningError as exc:
        raise ScenarioError(f"{source}: learner.device = {device!r}: {exc}") from None


def check_clipping(scenario: Scenario) -> list[str]:
    """Warn when a setting asks for more than the data holds and the run quietly uses less:
    tasks.train_per_class above a suite's images, learner.mapper.k above a task's train images,
    learner.reuse.shots above a class's train images.
    Only for suites that know their sizes cheaply (folder from its file listings; not mixed)."""
    from agents.suites.registry import train_sizes

    sizes = train_sizes(scenario.tasks)
    warnings = _check_shots(scenario, sizes[0] if sizes else None)
    if sizes is None:
        return warnings
    per_class, per_task = sizes
    asked = scenario.tasks.train_per_class
    if asked is not None and asked > per_class:
        warnings.append(f"tasks.train_per_class = {asked}, but {scenario.tasks.suite} has only {per_class} train "
                        f"images in its smallest class: the run uses at most {per_class} per class")
    k = getattr(scenario.learner.mapper, "k", None)
    if k is not None and k > per_task:
        warnings.append(f"learner.mapper.k = {k}, but a task has as few as {per_task} train images: "
                        f"the run fits min(k, images) = {per_task} clusters there")
    return warnings


def _check_shots(scenario: Scenario, per_class: int | None) -> list[str]:
    """Visual reuse matching looks at `shots` training images of each new class; warn when a class
    has fewer (the suite's smallest class, or tasks.train_per_class where the suite's size is not
    known cheaply): matching then sees only those."""
    reuse = scenario.learner.reuse
    if not (reuse.enabled and reuse.match == "visual"):
        return []
    cap = scenario.tasks.train_per_class
    has = per_class if per_class is not None else cap
    if has is None or reuse.shots <= has:
        return []
    why = f"tasks.train_per_class = {cap}" if cap is not None and cap <= has else \
        f"{scenario.tasks.suite} has only {has} in its smallest class"
    return [f"learner.reuse.shots = {reuse.shots}, but a class has as few as {has} train images ({why}): "
            f"visual matching looks at {has} there; lower learner.reuse.shots to {has} or fewer to match on "
            "the same number everywhere"]


def check_folder_files(scenario: Scenario) -> list[str]:
    """Warn, with a count and examples, about files in a folder suite's class folders that are not
    images by their suffix: the run skips them (a file with an image suffix that does not read is
    refused when the tasks are built, naming it)."""
    if scenario.tasks.suite != "folder":
        return []
    from agents.suites.folder import skipped_files

    skipped = skipped_files(scenario.tasks)
    if not skipped:
        return []
    shown = ", ".join(repr(str(p)) for p in skipped[:3])
    more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    return [f"tasks.path: {len(skipped)} file(s) in class folders are not images by their suffix and are "
            f"skipped: {shown}{more}"]


def check_exemplars(scenario: Scenario, source: str) -> None:
    """A Mahalanobis mapper's m exemplars per class must exist in every class's training images
    (checked here for suites that know their sizes cheaply; the others refuse it when learning)."""
    m = getattr(scenario.learner.mapper, "m", None)
    if m is None:
        return
    from agents.suites.registry import train_sizes

    sizes = train_sizes(scenario.tasks)
    if sizes is not None and m > sizes[0]:
        cap = scenario.tasks.train_per_class
        why = f" (tasks.train_per_class = {cap})" if cap is not None and cap <= sizes[0] else ""
        raise ScenarioError(f"{source}: learner.mapper.m = {m}, but {scenario.tasks.suite} has only {sizes[0]} "
                            f"train images in its smallest class{why}; allowed: m <= {sizes[0]}")
