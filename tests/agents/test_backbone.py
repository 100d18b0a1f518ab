"""Backbone: building by name and weights, clear errors, frozen model, features, fingerprint, MACs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import timm
import torch

from agents.backbone import create_backbone
from agents.config import BackboneConfig
from agents.device import best_device
from agents.errors import BackboneError, DataError, LearningError

SMALL = BackboneConfig(name="resnet18", weights="random", image_size=32, batch_size=5)


@pytest.fixture(scope="module")
def small():
    return create_backbone(SMALL, torch.device("cpu"))


@pytest.fixture(scope="module")
def lite0():
    return create_backbone(BackboneConfig(image_size=32, batch_size=8), torch.device("cpu"))


def _images(n, size=20, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_features_shape_dtype_and_determinism(small):
    images = _images(12)
    first = small.features(images)
    assert first.shape == (12, small.feature_dim) == (12, 512)
    assert first.dtype == np.float32
    np.testing.assert_array_equal(first, small.features(images))
    # batching (batch_size=5 splits 12 as 5+5+2) must not change a sample's features
    np.testing.assert_allclose(first[10:], small.features(images[10:]), rtol=1e-5, atol=1e-5)


def test_features_of_no_images_is_empty(small):
    assert small.features(_images(0)).shape == (0, 512)


def test_backbone_is_frozen_and_in_eval_mode(small, lite0):
    for backbone in (small, lite0):
        assert not any(p.requires_grad for p in backbone.model.parameters())
        assert not backbone.model.training


def test_preprocess_resizes_and_normalizes_with_timm_config(lite0):
    x = lite0.preprocess(np.full((2, 10, 14, 3), 255, dtype=np.uint8))
    assert x.shape == (2, 3, 32, 32) and x.dtype == torch.float32
    # lite0's mean/std are 0.5/0.5, so white maps to exactly 1.0
    assert (lite0.mean, lite0.std) == ((0.5,) * 3, (0.5,) * 3)
    torch.testing.assert_close(x, torch.ones_like(x))


def test_offline_lite0_metadata(lite0):
    assert lite0.feature_dim == 1280
    assert lite0.image_size == 32
    assert lite0.macs_per_image == _layer_macs(lite0.model, lite0.image_size)


def _layer_macs(model: torch.nn.Module, size: int) -> int:
    """MACs of one image counted layer by layer from shapes, independently of torch's FLOP counter:
    a conv costs (output elements) x (in_channels / groups) x kh x kw, a linear layer in x out."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Conv2d):
            kh, kw = module.kernel_size
            total += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, torch.nn.Linear):
            total += output.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    with torch.inference_mode():
        model(torch.zeros(1, 3, size, size, device=next(model.parameters()).device))
    for h in handles:
        h.remove()
    return total


def test_macs_grow_with_image_size():
    a = create_backbone(SMALL, torch.device("cpu"))
    b = create_backbone(SMALL.model_copy(update={"image_size": 64}), torch.device("cpu"))
    assert b.macs_per_image > 3 * a.macs_per_image


def test_random_weights_are_deterministic_and_leave_global_rng_alone(small):
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    again = create_backbone(SMALL, torch.device("cpu"))
    assert torch.rand(1) == expected
    assert again.fingerprint == small.fingerprint


def test_fingerprint_depends_on_settings(small, lite0):
    other = create_backbone(SMALL.model_copy(update={"image_size": 40}), torch.device("cpu"))
    assert len({small.fingerprint, lite0.fingerprint, other.fingerprint}) == 3
    # batch size does not change features, so it must not change the fingerprint
    bigger = create_backbone(SMALL.model_copy(update={"batch_size": 64}), torch.device("cpu"))
    assert bigger.fingerprint == small.fingerprint


def test_fingerprint_is_stable_across_processes(lite0):
    code = ("from agents.backbone import create_backbone; from agents.config import BackboneConfig; "
            "import torch; print(create_backbone(BackboneConfig(image_size=32), "
            "torch.device('cpu')).fingerprint)")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         check=True, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == lite0.fingerprint


def test_unknown_name_suggests_close_matches():
    with pytest.raises(BackboneError, match=r"'resnet_18'.*'resnet18'"):
        create_backbone(BackboneConfig(name="resnet_18", weights="random"))


def test_offline_weights_only_for_lite0():
    with pytest.raises(BackboneError, match=r"'offline'.*'random'"):
        create_backbone(BackboneConfig(name="resnet18", weights="offline"))


def test_missing_checkpoint_path_is_named(tmp_path):
    missing = tmp_path / "nope.pth"
    with pytest.raises(BackboneError, match="nope.pth"):
        create_backbone(BackboneConfig(name="resnet18", weights=str(missing)))


def test_checkpoint_path_round_trip(tmp_path, small):
    path = tmp_path / "resnet18.pth"
    torch.save(small.model.state_dict(), path)
    loaded = create_backbone(SMALL.model_copy(update={"weights": str(path)}), torch.device("cpu"))
    images = _images(3)
    np.testing.assert_array_equal(loaded.features(images), small.features(images))
    assert loaded.fingerprint != small.fingerprint  # identity is the file's hash


def test_checkpoint_that_does_not_fit_is_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(timm.create_model("resnet34", num_classes=0).state_dict(), path)
    with pytest.raises(BackboneError, match="other.pth"):
        create_backbone(SMALL.model_copy(update={"weights": str(path)}))


def test_pretrained_without_network_explains_offline(monkeypatch):
    def no_network(*args, **kwargs):
        if kwargs.get("pretrained"):
            raise OSError("no connection")
        return original(*args, **kwargs)

    original = timm.create_model
    monkeypatch.setattr(timm, "create_model", no_network)
    # the hub answers the probe (as it would for a user with a network), then the download fails
    monkeypatch.setattr("agents.weights.hub_unreachable_reason", lambda: None)
    with pytest.raises(BackboneError, match=r"network.*'offline'"):
        create_backbone(BackboneConfig(name="resnet18", weights="pretrained"))


@pytest.mark.parametrize("bad", [np.zeros((2, 8, 8), np.uint8), np.zeros((2, 8, 8, 3), np.float32),
                                 np.zeros((2, 8, 8, 4), np.uint8)])
def test_bad_image_arrays_are_refused(small, bad):
    with pytest.raises(DataError, match="uint8"):
        small.features(bad)


def test_best_device():
    assert best_device("cpu") == torch.device("cpu")
    assert best_device("auto").type in ("cpu", "cuda")
    with pytest.raises(LearningError, match="'gpu'"):
        best_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(LearningError, match="CUDA is not available"):
            best_device("cuda:1")


def test_fixed_input_size_model_is_built_for_image_size():
    vit = create_backbone(BackboneConfig(name="vit_tiny_patch16_224", weights="random", image_size=32),
                          torch.device("cpu"))
    assert vit.features(_images(2)).shape == (2, 192)
