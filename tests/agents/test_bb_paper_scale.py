"""Beneficial biases at the paper's scale (legacy_xception, 2048-D, 49 classes, k=25): package bytes per
variant from the package layout, and teacher MACs of BB training from a per-layer hand count."""

import numpy as np
import pytest
import torch
from torch import nn

from agents.anchors import GMMCAnchor
from agents.bias_layers import bias_layer_names
from agents.biases import train_head_with_biases
from agents.config import BBConfig, HeadConfig
from agents.package import SharePackage

D, C, K = 2048, 49, 25
# Bias counts summed by hand from the architecture in test_bias_layers.py.
BIASES = {("all", False): 50_312, ("all", True): 50_312 - 23_048, ("last_half", False): 30_760}


def _xception(device: str = "meta") -> nn.Module:
    timm = pytest.importorskip("timm")
    with torch.device(device), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = timm.create_model("legacy_xception", num_classes=0).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@pytest.mark.parametrize("layers, skip", sorted(BIASES))
def test_paper_gmmc_bb_package_bytes_from_its_layout(layers, skip):
    """Payload = head 49 x 2048 + 49, biases (one per biased channel), GMMC 2 x 25 x 2048 + 25, as fp32;
    safetensors adds an 8-byte length and a JSON header naming every tensor (74 bias tensors at most)."""
    model = _xception()
    names = bias_layer_names(model, layers, skip, example=torch.zeros(1, 3, 299, 299, device="meta"))
    modules = dict(model.named_modules())
    biases = {n: np.zeros(modules[n].out_channels, np.float32) for n in names}
    anchor = GMMCAnchor(np.zeros((K, D), np.float32), np.ones((K, D), np.float32),
                        np.full(K, 1 / K, np.float32), n_samples=2450)
    pkg = SharePackage(0, "task", tuple(f"class_{i}" for i in range(C)), np.zeros((C, D), np.float32),
                       np.zeros(C, np.float32), biases, anchor)
    payload = (C * D + C + BIASES[layers, skip] + 2 * K * D + K) * 4
    size = pkg.nbytes("fp32")
    header = size - payload
    # no-BB header is 1,248 bytes (test_package.py); each bias tensor adds its entry, under 120 bytes.
    assert 1_248 < header < 1_248 + 120 * len(names)
    assert pkg.nbytes("fp16") == payload // 2 + header


def _hand_macs(model: nn.Module, size: int, biased: set[str]) -> tuple[int, int]:
    """(forward MACs per image, backward MACs per image) from layer shapes, in execution order.

    A frozen conv's backward computes only its input's gradient (kh*kw*cin/groups per output element,
    as its forward), and only when something upstream has a bias: every conv run after the first
    biased one; the first biased conv's own input needs no gradient."""
    order: list[tuple[str, int]] = []
    names = {m: n for n, m in model.named_modules()}

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        kh, kw = module.kernel_size
        order.append((names[module], kh * kw * module.in_channels // module.groups * output[0].numel()))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size, device="meta"))
    for h in handles:
        h.remove()
    first = next(i for i, (n, _) in enumerate(order) if n in biased)
    return sum(m for _, m in order), sum(m for _, m in order[first + 1:])


@pytest.mark.parametrize("size", [
    32,
    pytest.param(299, marks=pytest.mark.slow),  # the paper's size: ~70 GMACs of real CPU work
])
@pytest.mark.parametrize("layers", ["all", "last_half"])
def test_bb_training_macs_match_a_hand_count(size, layers):
    """One epoch, 2 training and 2 validation images: MACs = 2 x (forward + backward + head step)
    + 2 x (forward + head forward), where the head step is forward, weight and input gradients."""
    model = _xception("cpu")
    names = bias_layer_names(model, layers, False)
    fwd, bwd = _hand_macs(_xception(), size, set(names))
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (4, size, size, 3), dtype=np.uint8)
    labels = np.array([0, 0, 1, 1])
    prep = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
    head_cfg = HeadConfig(val_fraction=0.5)
    bb_cfg = BBConfig(enabled=True, epochs=1, batch_size=2, layers=layers)
    result, biases, macs = train_head_with_biases(model, prep, imgs, labels, 2, head_cfg, bb_cfg, seed=0)
    head = D * 2  # 2048 features x 2 classes
    assert set(biases) == set(names)
    assert macs == 2 * (fwd + bwd + 3 * head) + 2 * (fwd + head)
