"""Share packages: exact fp32 / close fp16 round trips, exact wire size, garbage rejected."""

import json
import struct

import numpy as np
import pytest
from safetensors.numpy import save as st_save

from agents.anchors import GMMCAnchor, MahalanobisAnchor
from agents.errors import PackageError
from agents.package import SharePackage


def _gmmc_package(d=16, c=3, k=4, biases=True, seed=0):
    rng = np.random.default_rng(seed)
    f = lambda *s: rng.normal(0, 1, s).astype(np.float32)  # noqa: E731
    anchor = GMMCAnchor(f(k, d), np.abs(f(k, d)) + 0.1, np.full(k, 1 / k, np.float32), n_samples=77)
    bb = {"conv_stem": f(8), "blocks.0.0.conv_pw": f(4)} if biases else None
    return SharePackage(7, "fashion: shoes", ("sandal", "sneaker", "boot")[:c], f(c, d), f(c), bb, anchor)


def _maha_package(d=16, c=3, m=5, **_):
    rng = np.random.default_rng(1)
    anchor = MahalanobisAnchor(rng.normal(size=(c, d)).astype(np.float32),
                               rng.normal(size=(c * m, d)).astype(np.float32),
                               np.repeat(np.arange(c), m).astype(np.int64))
    return SharePackage(3, "digits", ("a", "b", "c"), rng.normal(size=(c, d)).astype(np.float32),
                        np.zeros(c, np.float32), None, anchor)


def _assert_same(a: SharePackage, b: SharePackage, **tol):
    check = np.testing.assert_allclose if tol else np.testing.assert_array_equal
    assert (a.task_id, a.task_name, a.classes) == (b.task_id, b.task_name, b.classes)
    check(a.head_weight, b.head_weight, **tol)
    check(a.head_bias, b.head_bias, **tol)
    assert (a.biases is None) == (b.biases is None)
    for k in a.biases or {}:
        check(a.biases[k], b.biases[k], **tol)
    assert a.anchor.kind == b.anchor.kind
    for field in vars(a.anchor):
        x, y = getattr(a.anchor, field), getattr(b.anchor, field)
        if isinstance(x, np.ndarray):
            check(x, y, **tol)
        else:
            assert x == y


@pytest.mark.parametrize("make", [_gmmc_package, _maha_package], ids=["gmmc", "maha"])
def test_fp32_round_trip_is_exact_and_size_is_len_bytes(make):
    pkg = make()
    blob = pkg.to_bytes("fp32")
    back = SharePackage.from_bytes(blob)
    _assert_same(pkg, back)
    assert pkg.nbytes("fp32") == len(blob)
    assert back.head_weight.dtype == np.float32


@pytest.mark.parametrize("make", [_gmmc_package, _maha_package], ids=["gmmc", "maha"])
def test_fp16_round_trip_is_close_and_smaller(make):
    pkg = make(d=256)  # large enough that the payload, not the header, dominates the size
    back = SharePackage.from_bytes(pkg.to_bytes("fp16"))
    _assert_same(pkg, back, rtol=1e-3, atol=2e-3)
    assert pkg.nbytes("fp16") < 0.6 * pkg.nbytes("fp32")


def test_integer_arrays_stay_integer():
    back = SharePackage.from_bytes(_maha_package().to_bytes("fp16"))
    assert back.anchor.exemplar_labels.dtype == np.int64
    assert back.anchor.exemplar_labels.tolist() == np.repeat(np.arange(3), 5).tolist()


def test_fp16_keeps_tiny_variances_positive_and_refuses_overflow():
    pkg = _gmmc_package(biases=False)
    tiny = GMMCAnchor(pkg.anchor.means, np.full_like(pkg.anchor.variances, 1e-9), pkg.anchor.weights, 5)
    back = SharePackage.from_bytes(SharePackage(1, "t", pkg.classes, pkg.head_weight, pkg.head_bias,
                                                None, tiny).to_bytes("fp16"))
    assert (back.anchor.variances > 0).all()
    huge = SharePackage(1, "t", pkg.classes, pkg.head_weight * 1e6, pkg.head_bias, None, pkg.anchor)
    with pytest.raises(PackageError, match="fp32"):
        huge.to_bytes("fp16")


def _with_metadata(**changes) -> bytes:
    blob = _gmmc_package().to_bytes()
    (size,) = struct.unpack("<Q", blob[:8])
    meta = json.loads(blob[8:8 + size])["__metadata__"]
    meta.update(changes)
    return st_save(SharePackage.from_bytes(blob)._tensors("fp32"), metadata=meta)


@pytest.mark.parametrize("blob, match", [
    (b"", "too short"),
    (b"\x00" * 3, "too short"),
    (b"not a safetensors file at all", "truncated"),
    (struct.pack("<Q", 4) + b"{{{{", "JSON"),
    (st_save({"x": np.zeros(2, np.float32)}), "not a share package"),
])
def test_garbage_raises_package_error(blob, match):
    with pytest.raises(PackageError, match=match):
        SharePackage.from_bytes(blob)


def test_wrong_format_or_version_raises_package_error():
    with pytest.raises(PackageError, match="format 'other'"):
        SharePackage.from_bytes(_with_metadata(format="other"))
    with pytest.raises(PackageError, match="version '?2'? is not supported"):
        SharePackage.from_bytes(_with_metadata(version="2"))
    with pytest.raises(PackageError, match="anchor kind"):
        SharePackage.from_bytes(_with_metadata(anchor="kmeans"))
    blob = _gmmc_package().to_bytes()
    with pytest.raises(PackageError):
        SharePackage.from_bytes(blob[: len(blob) - 10])  # truncated body


def test_inconsistent_package_is_refused():
    pkg = _gmmc_package()
    with pytest.raises(PackageError, match="classes"):
        SharePackage(1, "t", ("only one",), pkg.head_weight, pkg.head_bias, None, pkg.anchor)
    with pytest.raises(PackageError, match="dtype"):
        pkg.to_bytes("int8")
    with pytest.raises(PackageError, match="same backbone"):
        SharePackage(1, "t", pkg.classes, pkg.head_weight[:, :8], pkg.head_bias, None, pkg.anchor)
    maha = _maha_package().anchor
    bad = MahalanobisAnchor(maha.class_means, maha.exemplars, maha.exemplar_labels + 1)
    with pytest.raises(PackageError, match="0..2"):
        SharePackage(1, "t", ("a", "b", "c"), maha.class_means, np.zeros(3, np.float32), None, bad)


def test_paper_gmmc_package_size_2048d_49_classes_k25():
    """The paper's ~813 KB GMMC package (2048-D xception features, 49 classes, k=25, fp32, no BB).

    Payload: head 49*2048 + 49 = 100,401 floats; anchor means + variances 2*25*2048 = 102,400 floats
    plus 25 weights: 202,826 floats * 4 bytes = 811,304 bytes. safetensors adds an 8-byte length and
    a JSON header (six tensor names with dtype, shape and byte offsets, plus our metadata: format,
    version, task id and name, the 49 class names as JSON, anchor kind, dtype, BB flag, n_samples),
    padded to 8 bytes: 1,248 bytes here. Total 812,552 bytes = 812.6 kB (decimal), 793.5 KiB: within 0.1%
    of the paper's ~813 KB. fp16 halves the payload only: 406,900 bytes.
    """
    d, c, k = 2048, 49, 25
    anchor = GMMCAnchor(np.zeros((k, d), np.float32), np.ones((k, d), np.float32),
                        np.full(k, 1 / k, np.float32), n_samples=2450)
    pkg = SharePackage(0, "task", tuple(f"class_{i}" for i in range(c)), np.zeros((c, d), np.float32),
                       np.zeros(c, np.float32), None, anchor)
    size = pkg.nbytes("fp32")
    payload = (c * d + c + 2 * k * d + k) * 4
    assert payload == 811_304
    header = size - payload
    assert header == 1_248 and size == 812_552  # pinned: the wire size is a simulated quantity
    assert abs(size - 813_000) / 813_000 < 0.01
    # fp16 halves the payload; the header stays.
    assert pkg.nbytes("fp16") == payload // 2 + header == 406_900


def test_round_trip_through_the_wire_feeds_a_receiver():
    """Teacher: head + anchor -> bytes; receiver: bytes -> mapper + banked head -> correct labels."""
    from agents.anchors import fit_anchor
    from agents.config import GMMCConfig, HeadConfig
    from agents.head import train_head
    from agents.mapper import create_mapper

    rng = np.random.default_rng(0)
    cfg = GMMCConfig(k=3)
    mapper, heads, tests = create_mapper(cfg), {}, []
    for t in range(3):
        centres = rng.normal(0, 5, 8) + rng.normal(0, 2, (2, 8))
        y = np.repeat([0, 1], 40)
        x = (centres[y] + rng.normal(0, 0.5, (80, 8))).astype(np.float32)
        head = train_head(x, y, 2, HeadConfig(epochs=10, patience=5, batch_size=16), seed=t)
        anchor, _ = fit_anchor(x, y, cfg, seed=t)
        blob = SharePackage(t, f"task{t}", ("a", "b"), head.weight, head.bias, None, anchor).to_bytes("fp16")
        pkg = SharePackage.from_bytes(blob)  # what the receiver holds
        mapper.add(pkg.task_id, pkg.anchor)
        heads[pkg.task_id] = pkg
        tests.append((t, centres[y] + rng.normal(0, 0.5, (80, 8)), y))
    for t, x, y in tests:
        assert (mapper.predict(x) == t).mean() > 0.95
        pkg = heads[t]
        assert ((x @ pkg.head_weight.T + pkg.head_bias).argmax(1) == y).mean() > 0.95


# The paper's configuration (xception, 2048-D features, 49 classes, fp32), layout by layout.
PAPER_D, PAPER_C = 2048, 49
HEAD_BYTES = PAPER_D * PAPER_C * 4 + PAPER_C * 4  # weight [49, 2048] + bias [49] = 401,604


def _paper_package(anchor):
    c, d = PAPER_C, PAPER_D
    return SharePackage(0, "task", tuple(f"class_{i}" for i in range(c)), np.zeros((c, d), np.float32),
                        np.zeros(c, np.float32), None, anchor)


def _header(size, payload):
    """The safetensors framing: an 8-byte length plus a JSON header padded to 8 bytes, small."""
    header = size - payload
    assert 8 < header < 2_048 and (header - 8) % 8 == 0
    return header


def test_paper_package_sizes_per_mapper_variant():
    """Payload bytes from each layout, by hand:
    head 2048*49*4 + 49*4 = 401,604; GMMC 25*2048*2*4 + 25*4 = 409,700;
    Mahalanobis (features, m = 5): means 49*2048*4 = 401,408, exemplars 245*2048*4 = 2,007,040,
    labels 245 int64 = 1,960; Mahalanobis (images, m = 5 at 299x299x3 uint8): means 401,408,
    images 245*299*299*3 = 65,709,735, labels 1,960."""
    assert HEAD_BYTES == 401_604
    d, c, k, m = PAPER_D, PAPER_C, 25, 5
    gmmc = GMMCAnchor(np.zeros((k, d), np.float32), np.ones((k, d), np.float32),
                      np.full(k, 1 / k, np.float32), n_samples=2450)
    labels = np.repeat(np.arange(c), m).astype(np.int64)
    feats = MahalanobisAnchor(np.zeros((c, d), np.float32), np.zeros((c * m, d), np.float32), labels)
    images = MahalanobisAnchor(np.zeros((c, d), np.float32), None, labels,
                               np.zeros((c * m, 299, 299, 3), np.uint8))
    want = {"gmmc": HEAD_BYTES + 409_700,
            "features": HEAD_BYTES + 401_408 + 2_007_040 + 1_960,
            "images": HEAD_BYTES + 401_408 + 65_709_735 + 1_960}
    sizes = {}
    for name, anchor in (("gmmc", gmmc), ("features", feats), ("images", images)):
        sizes[name] = _paper_package(anchor).nbytes("fp32")
        _header(sizes[name], want[name])
    # Table 2 gives 67.2 MB per task for Mahalanobis with images over SKILL-102's mean of
    # 5033 / 102 = 49.3 classes; at 49 classes the layout gives 66.5 MB, 1.0 % below.
    assert abs(sizes["images"] / 67.2e6 - 1) < 0.015
    # fp16 halves the float arrays only: images and labels stay integer, byte for byte.
    half = _paper_package(images).nbytes("fp16")
    assert sizes["images"] - half == (HEAD_BYTES + 401_408) // 2


def test_image_anchor_round_trips_without_features():
    c, m = 3, 2
    labels = np.repeat(np.arange(c), m).astype(np.int64)
    imgs = np.random.default_rng(0).integers(0, 256, (c * m, 5, 5, 3), dtype=np.uint8)
    anchor = MahalanobisAnchor(np.ones((c, 4), np.float32), np.ones((c * m, 4), np.float32), labels, imgs)
    pkg = SharePackage(2, "t", ("a", "b", "c"), np.zeros((c, 4), np.float32), np.zeros(c, np.float32), None, anchor)
    back = SharePackage.from_bytes(pkg.to_bytes("fp16"))
    assert back.anchor.exemplars is None and back.anchor.shares_images
    np.testing.assert_array_equal(back.anchor.exemplar_images, imgs)
    np.testing.assert_array_equal(back.anchor.exemplar_labels, labels)
    # Only the images cross the wire: the teacher's exemplar features do not.
    assert pkg.nbytes() == SharePackage(2, "t", ("a", "b", "c"), pkg.head_weight, pkg.head_bias, None,
                                        MahalanobisAnchor(anchor.class_means, None, labels, imgs)).nbytes()
    with pytest.raises(PackageError, match="uint8"):
        SharePackage(2, "t", ("a", "b", "c"), pkg.head_weight, pkg.head_bias, None,
                     MahalanobisAnchor(anchor.class_means, None, labels, imgs.astype(np.float32)))
