"""bb.layers and bb.skip_redundant: which layers get biases, checked by hand on small models and on the
paper's xception (layer widths summed from the architecture, not from the code)."""

import numpy as np
import pytest
import torch
from torch import nn

from agents.bias_layers import bias_layer_names, biasable_names, redundant_layers, select_layers
from agents.biases import attach_biases, train_head_with_biases
from agents.config import BBConfig, HeadConfig
from agents.errors import LearningError


class Separable(nn.Module):
    """conv -> depthwise 3x3 -> pointwise 1x1 -> BN -> ReLU -> pool -> linear; `between` goes after dw."""

    def __init__(self, between: nn.Module | None = None, residual: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.between = between if between is not None else nn.Identity()
        self.pw = nn.Conv2d(4, 6, 1)
        self.bn = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, 5)
        self.residual = residual
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(self.stem(x))
        z = self.pw(self.between(y))
        if self.residual:  # dw's output also reaches the output another way
            z = z + y.mean(1, keepdim=True)
        return self.fc(torch.relu(self.bn(z)).mean((2, 3)))


def _random_biases(model: nn.Module, names: list[str], seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    modules = dict(model.named_modules())
    width = lambda m: m.out_channels if isinstance(m, nn.Conv2d) else m.out_features  # noqa: E731
    return {n: rng.normal(size=width(modules[n])).astype(np.float32) for n in names}


def _run(model: nn.Module, biases: dict[str, np.ndarray], x: torch.Tensor) -> torch.Tensor:
    with attach_biases(model, list(biases)) as bias_set, torch.no_grad():
        bias_set.load(biases)
        return model(x)


def test_depthwise_bias_feeding_a_pointwise_conv_is_redundant_and_folding_it_gives_equal_outputs():
    model = Separable().eval()
    x = torch.randn(2, 3, 7, 7)
    everything = biasable_names(model)
    assert everything == ["stem", "dw", "pw", "fc"]
    # stem feeds a padded 3x3 conv (edges see zeros, not the bias); pw feeds BN; only dw is absorbed.
    kept = bias_layer_names(model, "all", True, example=x)
    assert kept == ["stem", "pw", "fc"]
    full = _random_biases(model, everything)
    # By hand: pw(y + b_dw) = pw(y) + W_pw b_dw, so b_pw + W_pw b_dw on pw gives the same network.
    w_pw = model.pw.weight.detach().numpy()[:, :, 0, 0]
    folded = {k: v for k, v in full.items() if k != "dw"}
    folded["pw"] = full["pw"] + w_pw @ full["dw"]
    torch.testing.assert_close(_run(model, folded, x), _run(model, full, x), rtol=1e-5, atol=1e-5)
    # Dropping dw's bias without folding does change the output: the check above can fail.
    unfolded = {k: v for k, v in full.items() if k != "dw"}
    assert not torch.allclose(_run(model, unfolded, x), _run(model, full, x), atol=1e-3)


@pytest.mark.parametrize("between, residual", [
    (nn.ReLU(), False),               # a nonlinearity between: the bias is not a constant after it
    (nn.ReLU(inplace=True), False),   # same, in place (the same tensor object reaches pw)
    (nn.BatchNorm2d(4), False),       # a norm between
    (None, True),                     # dw's output also read elsewhere
])
def test_nothing_is_redundant_when_anything_stands_between_or_reads_the_output(between, residual):
    model = Separable(between, residual).eval()
    x = torch.randn(1, 3, 5, 5)
    assert bias_layer_names(model, "all", True, example=x) == ["stem", "dw", "pw", "fc"]


def test_a_redundant_layer_whose_absorber_gets_no_bias_keeps_its_own():
    model = Separable().eval()
    x = torch.randn(1, 3, 5, 5)
    assert redundant_layers(model, ["stem", "dw", "fc"], x) == set()  # pw is not selected
    assert bias_layer_names(model, "dw,pw", True, example=x) == ["pw"]


def test_layers_all_last_half_and_patterns():
    model = Separable()
    assert select_layers(model, "all") == ["stem", "dw", "pw", "fc"]
    assert select_layers(model, "last_half") == ["pw", "fc"]
    assert select_layers(model, "fc") == ["fc"]
    assert select_layers(model, " s*, p? ") == ["stem", "pw"]  # fnmatch, comma-separated
    odd = nn.Sequential(nn.Conv2d(3, 3, 1), nn.Conv2d(3, 3, 1), nn.Conv2d(3, 3, 1))
    assert select_layers(odd, "last_half") == ["1", "2"]  # the later half, rounding up


@pytest.mark.parametrize("layers", ["conv_head", "s.*", ".*fc", "stem,nope"])
def test_a_pattern_that_matches_no_layer_names_field_value_and_what_is_allowed(layers):
    with pytest.raises(LearningError) as exc:
        select_layers(Separable(), layers)
    text = str(exc.value)
    assert "learner.bb.layers" in text and repr(layers) in text
    assert "'all', 'last_half'" in text and "fnmatch" in text and "'stem'" in text


def test_training_with_a_subset_returns_exactly_those_biases():
    model = Separable().eval()
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 12)
    imgs = np.clip(rng.normal(80, 30, (24, 6, 6, 3)) + y[:, None, None, None] * 90, 0, 255).astype(np.uint8)
    prep = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float() / 255.0  # noqa: E731
    head = HeadConfig(patience=2, val_fraction=0.25)
    res, biases, macs_skip = train_head_with_biases(
        model, prep, imgs, y, 2, head, BBConfig(enabled=True, epochs=2, batch_size=8, skip_redundant=True), 0)
    assert set(biases) == {"stem", "pw", "fc"} and res.weight.shape == (2, 5)  # the head on fc's 5 outputs
    _, late, macs_late = train_head_with_biases(
        model, prep, imgs, y, 2, head, BBConfig(enabled=True, epochs=2, batch_size=8, layers="last_half",
                                                patience=5), 0)
    assert set(late) == {"pw", "fc"}
    assert 0 < macs_late < macs_skip  # no backward through stem and dw when they carry no bias
    assert not any(m._forward_hooks for m in model.modules())


def test_paper_xception_bias_counts_from_its_architecture():
    """legacy_xception's biases summed by hand from Keras' Xception (conv widths per block).

    Per block: an optional 1x1 skip conv, then separable convs = depthwise (width = its input) +
    pointwise (its output). Entry: conv1 32 + conv2 64. block1 (64->128, 2 sep): 128 + (64+128) + (128+128);
    block2 (128->256): 256 + (128+256) + (256+256); block3 (256->728): 728 + (256+728) + (728+728);
    blocks 4-11 (728, 3 sep, no skip): 3 * (728+728) each; block12 (728->1024, grow last): 1024 +
    (728+728) + (728+1024); conv3 sep 1024->1536: 1024+1536; conv4 sep 1536->2048: 1536+2048.
    """
    timm = pytest.importorskip("timm")
    with torch.device("meta"):
        model = timm.create_model("legacy_xception", num_classes=0).eval()
        probe = torch.zeros(1, 3, 299, 299)
    entry, b1, b2, b3 = 32 + 64, 128 + 192 + 256, 256 + 384 + 512, 728 + 984 + 1456
    middle, b12, exit_ = 8 * 3 * 1456, 1024 + 1456 + 1752, 2560 + 3584
    total = entry + b1 + b2 + b3 + middle + b12 + exit_
    depthwise = (64 + 128) + (128 + 256) + (256 + 728) + 8 * 3 * 728 + (728 + 728) + 1024 + 1536
    assert total == 50_312 and depthwise == 23_048  # the figures
    modules = dict(model.named_modules())

    def width(names: list[str]) -> int:
        return sum(modules[n].out_channels for n in names)

    assert width(bias_layer_names(model, "all", False)) == total
    kept = bias_layer_names(model, "all", True, example=probe)
    assert width(kept) == total - depthwise == 27_264
    assert all(n.endswith(".conv1") for n in set(biasable_names(model)) - set(kept))
    # last_half: 74 layers (2 entry + 5 + 5 + 5 + 8 * 6 + 5 + 2 + 2), the last 37 start after block7's
    # first separable conv: block7's other two (4 * 728), blocks 8-11, block12, conv3, conv4.
    late = bias_layer_names(model, "last_half", False)
    assert len(biasable_names(model)) == 74 and len(late) == 37
    assert width(late) == 4 * 728 + 4 * 3 * 1456 + (1024 + 1456 + 1752) + 2560 + 3584 == 30_760
