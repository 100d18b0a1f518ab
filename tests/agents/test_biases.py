"""Beneficial biases: per-channel placement checked by hand, only biases and head learn."""

import numpy as np
import pytest
import torch
from torch import nn

from agents.biases import applied_biases, attach_biases, train_head_with_biases
from agents.config import BBConfig, HeadConfig
from agents.errors import LearningError


def _tiny(seed: int = 0) -> nn.Sequential:
    """Conv -> BN -> ReLU -> pool -> Linear, a stand-in for a frozen num_classes=0 backbone."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 6),
    )
    with torch.no_grad():  # non-trivial running stats so that "before the norm" is observable
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
    return model.eval()


def _preprocess(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


def test_conv_bias_is_per_channel_at_every_position_and_before_the_norm():
    model = _tiny()
    x = torch.randn(2, 3, 5, 5)
    conv, bn = model[0], model[1]
    with torch.no_grad():
        plain_conv = conv(x)
        with attach_biases(model) as bs:
            assert set(bs.biases) == {"0", "5"} and bs.num_biases() == 4 + 6
            b = torch.tensor([0.5, -1.0, 2.0, 3.0])
            bs.load({"0": b.numpy(), "5": np.zeros(6, np.float32)})
            biased_conv = conv(x)
            out = model(x)
        # Hand computation: conv output plus b[c] at every (n, h, w).
        for c in range(4):
            expected = plain_conv[:, c] + b[c]
            torch.testing.assert_close(biased_conv[:, c], expected)
        # Before the norm: eval BN normalises (conv + b), so the shift is scaled by gamma/sqrt(var).
        z = (plain_conv + b.view(1, -1, 1, 1) - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(
            bn.running_var.view(1, -1, 1, 1) + bn.eps) * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
        hand = model[5](torch.relu(z).mean(dim=(2, 3)))
        torch.testing.assert_close(out, hand)
        # Detached: the model is back to its frozen self.
        torch.testing.assert_close(conv(x), plain_conv)


def test_linear_bias_adds_per_unit_and_applied_biases_is_temporary():
    model = _tiny()
    x = torch.randn(3, 3, 4, 4)
    with torch.no_grad():
        base = model(x)
        lin = np.arange(6, dtype=np.float32)
        with applied_biases(model, {"0": np.zeros(4, np.float32), "5": lin}):
            torch.testing.assert_close(model(x), base + torch.from_numpy(lin))
        torch.testing.assert_close(model(x), base)


def test_load_rejects_foreign_biases():
    bs = attach_biases(_tiny())
    with pytest.raises(LearningError, match="missing"):
        bs.load({"0": np.zeros(4, np.float32)})
    with pytest.raises(LearningError, match="shape"):
        bs.load({"0": np.zeros(5, np.float32), "5": np.zeros(6, np.float32)})
    bs.detach()


def test_bias_attaches_to_timm_conv2d_subclasses():
    timm = pytest.importorskip("timm")
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0).eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        base = model(x)
        with attach_biases(model) as bs:
            convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
            assert len(bs.biases) == len(convs)
            assert bs.num_biases() == sum(m.out_channels for m in convs)
            torch.testing.assert_close(model(x), base)  # zero init changes nothing


def _colour_task(n_per_class: int = 24, seed: int = 0):
    """Two classes told apart by colour: red-ish versus blue-ish 8x8 images."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per_class)
    imgs = rng.integers(0, 80, (len(y), 8, 8, 3))
    imgs[y == 0, :, :, 0] += 150
    imgs[y == 1, :, :, 2] += 150
    return imgs.astype(np.uint8), y.astype(np.int64)


def test_train_head_with_biases_only_biases_and_head_learn():
    model = _tiny()
    frozen = {k: v.clone() for k, v in model.state_dict().items()}
    imgs, y = _colour_task()
    head_cfg = HeadConfig(lr=5e-2, patience=3, val_fraction=0.25)
    bb_cfg = BBConfig(enabled=True, lr=1e-2, epochs=4, batch_size=16)
    res, biases, macs = train_head_with_biases(model, _preprocess, imgs, y, 2, head_cfg, bb_cfg, seed=0)
    # Frozen weights and BN running statistics unchanged, model left in eval mode, no hooks left.
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, frozen[k], rtol=0, atol=0)
    assert not model.training and not model[0]._forward_hooks
    assert all(p.grad is None for p in model.parameters())
    # The biases did move, and they and the head came back as plain arrays.
    assert set(biases) == {"0", "5"} and biases["0"].shape == (4,)
    assert any(np.abs(b).max() > 0 for b in biases.values())
    assert res.weight.shape == (2, 6) and res.val_accuracy >= 0.9
    assert macs == res.macs > 0
    # Deterministic under a seed.
    res2, biases2, macs2 = train_head_with_biases(model, _preprocess, imgs, y, 2, head_cfg, bb_cfg, seed=0)
    np.testing.assert_array_equal(res.weight, res2.weight)
    np.testing.assert_array_equal(biases["0"], biases2["0"])
    assert macs == macs2


@pytest.mark.slow
def test_bb_on_a_real_timm_backbone_keeps_it_frozen():
    """BB through tf_efficientnet_lite0 (random weights, tiny images): weights and BN stats untouched."""
    timm = pytest.importorskip("timm")
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    imgs, y = _colour_task(n_per_class=8)
    res, biases, macs = train_head_with_biases(
        model, _preprocess, imgs, y, 2, HeadConfig(val_fraction=0.25),
        BBConfig(enabled=True, epochs=1, batch_size=8), seed=0)
    assert sum(b.size for b in biases.values()) == sum(
        m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d))
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    assert res.weight.shape == (2, 1280) and macs > 0
