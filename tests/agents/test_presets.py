"""Learner presets: `paper` fills the paper's backbone and BB values under what a scenario sets itself,
and the paper's backbone counts the paper's forward MACs per image (checked by a hand count)."""

import pytest
import torch
from torch import nn

from agents import presets
from agents.config import BackboneConfig, LearnerConfig

PAPER_MACS_PER_IMAGE = 1.73e16 / 2_041_225  # the paper's no-BB teacher MACs over its training images


def test_default_preset_is_the_schema_defaults():
    assert LearnerConfig.model_validate({"preset": "default"}) == LearnerConfig()
    assert LearnerConfig().preset == "default"


def test_paper_preset_sets_backbone_and_bb_and_leaves_the_rest():
    cfg = LearnerConfig.model_validate({"preset": "paper"})
    assert (cfg.backbone.name, cfg.backbone.image_size, cfg.backbone.weights) == ("legacy_xception", 299, "pretrained")
    assert (cfg.bb.epochs, cfg.bb.patience, cfg.bb.enabled) == (48, 48, False)
    assert cfg.head == LearnerConfig().head and cfg.dtype == "fp32"


def test_what_the_scenario_sets_wins_over_the_preset_and_the_dump_round_trips():
    cfg = LearnerConfig.model_validate({"preset": "paper", "backbone": {"weights": "random"},
                                        "bb": {"enabled": True, "epochs": 3}})
    assert (cfg.backbone.name, cfg.backbone.weights, cfg.bb.epochs, cfg.bb.patience) == \
        ("legacy_xception", "random", 3, 48)
    again = LearnerConfig.model_validate(cfg.model_dump(mode="json"))
    assert again == cfg


def test_registry_refuses_a_value_registered_twice_and_values_for_default():
    with pytest.raises(ValueError, match="twice"):
        presets.register_preset_values("bb", "paper", {"epochs": 12})
    with pytest.raises(ValueError, match="default"):
        presets.register_preset_values("bb", "default", {"epochs": 12})
    assert presets.preset_names()[0] == "default" and "paper" in presets.preset_names()


def test_apply_preset_leaves_non_mappings_and_unknown_presets_for_the_schema():
    assert presets.apply_preset({"preset": "nope", "bb": {}}) == {"preset": "nope", "bb": {}}
    assert presets.apply_preset({"preset": "paper", "bb": 3})["bb"] == 3  # the schema reports it
    assert presets.apply_preset(None) is None


def _hand_count(model: nn.Module, size: int) -> int:
    """Forward MACs summed per layer from shapes alone: a conv's output element costs kh*kw*cin/groups
    multiply-adds, a linear unit in_features; nothing else in xception multiplies matrices."""
    total = 0

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += kh * kw * module.in_channels // module.groups * output.numel()
        else:
            total += module.in_features * output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size, device="meta"))
    for h in handles:
        h.remove()
    return total


def _xception_on_meta() -> nn.Module:
    timm = pytest.importorskip("timm")
    with torch.device("meta"):  # shapes without weights: no memory, no time
        return timm.create_model("legacy_xception", num_classes=0).eval()


def test_paper_backbone_counts_the_papers_macs_per_image():
    """legacy_xception at 299 px: torch's counter (what Backbone.macs_per_image runs) equals a hand
    count from layer shapes, which is within 2 % of the paper's 8.47e9 (1.73e16 MACs / 2,041,225 images)."""
    from agents.macs import count_macs

    model = _xception_on_meta()
    hand = _hand_count(model, 299)
    assert abs(hand - PAPER_MACS_PER_IMAGE) / PAPER_MACS_PER_IMAGE < 0.02
    with torch.no_grad():
        _, counted = count_macs(model, torch.zeros(1, 3, 299, 299, device="meta"))
    assert counted == hand


@pytest.mark.slow
def test_paper_preset_builds_the_papers_backbone():
    """The preset's backbone for real (random weights, CPU): 2048-D features, Keras' parameter count,
    and the hand-counted MACs per image."""
    from agents.backbone import create_backbone

    cfg = LearnerConfig.model_validate({"preset": "paper", "backbone": {"weights": "random"}}).backbone
    assert cfg == BackboneConfig(name="legacy_xception", weights="random", image_size=299)
    backbone = create_backbone(cfg, device=torch.device("cpu"))
    assert backbone.feature_dim == 2048
    # Keras' Xception without its top: 20,861,480 weights, of which 54,528 are BN statistics (buffers here).
    assert sum(p.numel() for p in backbone.model.parameters()) == 20_861_480 - 54_528
    assert backbone.macs_per_image == _hand_count(_xception_on_meta(), 299)
