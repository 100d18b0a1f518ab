"""The distinct suite: 102 tasks, each its own (source, domain) pair; class names carried, the same
for a class in every domain; seeded and deterministic; refuses more tasks than it can make."""

import unicodedata
from collections import Counter, defaultdict

import numpy as np
import pytest

from agents.config import SuiteConfig
from agents.errors import DataError
from agents.suites import create_suite, digits, distinct, fashion_mnist, glyphs, textures
from agents.suites.domains import COLOURS, all_domains, random_domain
from agents.suites.registry import class_names, count_tasks, default_suite


@pytest.fixture(scope="module")
def suite102(fmnist_path):
    return create_suite(SuiteConfig(num_tasks=102))


def _source_classes(source: str) -> set[str]:
    """A source's class names, from each source's own list (the glyphs' from Unicode itself)."""
    if source == "fmnist":
        return set(fashion_mnist.CLASSES)
    if source == "digits":
        return {str(d) for d in range(10)}
    if source == "textures":
        return set(textures.PHOTOS)
    return {unicodedata.name(ch).lower().replace(" ", "-") for ch in glyphs.SOURCES[source]}


def test_distinct_is_the_default_suite():
    assert default_suite() == "distinct" and SuiteConfig().suite == "distinct"


def test_102_tasks_each_its_own_source_and_domain(suite102):
    s = suite102
    assert s.name == "distinct" and [t.id for t in s.tasks] == list(range(102))
    pairs = [tuple(t.name.split("/")) for t in s.tasks]
    assert all(len(p) == 2 for p in pairs) and len(set(pairs)) == 102
    assert len({t.fingerprint for t in s.tasks}) == 102
    # 26 sources visited in rounds: 102 = 3 x 26 + 24, so every source 3 or 4 times.
    uses = Counter(source for source, _ in pairs)
    assert len(uses) == 26 and set(uses.values()) == {3, 4} and list(uses.values()).count(3) == 2
    assert {t.num_classes for t in s.tasks} == set(range(2, 7))
    for t in s.tasks:
        assert t.x_train.shape[1:] == (32, 32, 3) and t.x_train.dtype == np.uint8
        assert np.bincount(t.y_train).tolist() == [60] * t.num_classes
        assert np.bincount(t.y_test).tolist() == [20] * t.num_classes


def test_class_names_are_the_sources_own_and_shared_across_domains(suite102):
    by_source = defaultdict(list)
    for t in suite102.tasks:
        source = t.name.split("/")[0]
        assert set(t.classes) <= _source_classes(source), t.name
        by_source[source].append(set(t.classes))
    # Class sets overlap across a source's domains: some class is held by two tasks of one source.
    assert any(len(set.union(*sets)) < sum(map(len, sets)) for sets in by_source.values())
    # A name means one class: no two sources share a class name.
    names = [n for source in by_source for n in _source_classes(source)]
    assert len(names) == len(set(names))


def test_a_glyph_class_is_its_character():
    sampler = glyphs.GlyphSampler("latin-capital", 32)
    rng = np.random.default_rng(0)
    o, i = (sampler(glyphs.SOURCES["latin-capital"].index(c), "test", 50, rng) for c in "OI")
    # An O covers more of the image than an I, whatever the font and jitter.
    assert o.mean() > 1.5 * i.mean()


def test_test_images_come_from_fonts_never_used_in_training():
    for source in glyphs.SOURCES:
        fonts = glyphs.fonts_for(source)
        assert fonts["test"] and len(fonts["train"]) >= 3 and not set(fonts["train"]) & set(fonts["test"])


def test_no_test_image_in_train(suite102):
    for t in suite102.tasks[:30]:
        train = {bytes(im) for im in t.x_train}
        assert not any(bytes(im) in train for im in t.x_test), t.name


def test_deterministic_and_prefix_stable(suite102):
    cfg = SuiteConfig(num_tasks=8, train_per_class=6, test_per_class=2)
    a, b = create_suite(cfg), create_suite(cfg)
    assert a.fingerprint == b.fingerprint
    assert [t.fingerprint for t in a.tasks] == [t.fingerprint for t in b.tasks]
    assert create_suite(cfg.model_copy(update={"seed": 1})).fingerprint != a.fingerprint
    small = create_suite(SuiteConfig(num_tasks=5))
    assert [t.fingerprint for t in small.tasks] == [t.fingerprint for t in suite102.tasks[:5]]


def test_class_names_from_the_plan_are_the_built_suites(suite102):
    """What the reuse check reads without drawing an image is what the suite names its tasks."""
    assert class_names(SuiteConfig(num_tasks=102)) == [t.classes for t in suite102.tasks]
    assert class_names(SuiteConfig(num_tasks=5, seed=3)) == [t.classes for t in
                                                           create_suite(SuiteConfig(num_tasks=5, seed=3)).tasks]
    assert class_names(SuiteConfig(suite="digits", num_tasks=2)) == [("0", "1"), ("2", "3")]  # no plan: built

def test_domain_counts_by_hand():
    # tint: none or 6 colours; invert 2; rotate 4; small 2. Grey: a background always may be drawn:
    # none, or 9 (no tint: 6 colours + 3 photos) / 8 (tinted: the tint's colour left out).
    grey = 2 * 4 * 2 * (1 + 9) + 6 * 2 * 4 * 2 * (1 + 8)
    # Photos are opaque: a background only when small.
    rgb = 7 * 2 * 4 + 2 * 4 * (1 + 9) + 6 * 2 * 4 * (1 + 8)
    assert (len(all_domains("gray")), len(all_domains("rgb"))) == (grey, rgb) == (1024, 568)
    assert distinct.capacity() == 25 * grey + rgb


@pytest.mark.parametrize("kind", ["gray", "rgb"])
def test_domain_probabilities_match_random_domain(kind):
    p = dict(all_domains(kind))
    assert sum(p.values()) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    draws = Counter(random_domain(rng, kind) for _ in range(20_000))
    assert set(draws) <= set(p)
    # Marginals of two settings: tinted red, and plain, within 4 standard errors.
    for pick in (lambda d: d.tint == "red", lambda d: d.name == "plain"):
        expected = sum(v for d, v in p.items() if pick(d))
        seen = sum(n for d, n in draws.items() if pick(d)) / 20_000
        assert abs(seen - expected) < 4 * np.sqrt(expected * (1 - expected) / 20_000)
    assert len(COLOURS) == 6  # what test_domain_counts_by_hand assumes


def test_more_tasks_than_it_can_make_is_refused(fmnist_path):
    cfg = SuiteConfig(num_tasks=distinct.capacity() + 1)
    with pytest.raises(DataError, match=rf"num_tasks={distinct.capacity() + 1}.*num_tasks <= {distinct.capacity()}"):
        count_tasks(cfg)
    with pytest.raises(DataError, match="num_tasks"):
        create_suite(cfg)


def test_digits_cap_the_train_images_it_can_give():
    fewest = min(int(round(digits.TRAIN_FRACTION * n)) for n in digits.CLASS_SIZES)
    assert distinct.SPECS[1].name == "digits" and distinct.SPECS[1].train_per_class == fewest == 122


def test_jitter_is_the_affine_map_scipy_computes():
    # The same draws (angle, scale, shift per image, in that order) fed to scipy's own bilinear
    # affine_transform, in index coordinates: p_in = R(-angle) (p_out - c - shift) / scale + c.
    from scipy.ndimage import affine_transform

    masks = np.random.default_rng(1).random((5, 16, 16)).astype(np.float32)
    got = glyphs.jitter(masks, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    angle = np.deg2rad(rng.uniform(-glyphs.MAX_ROTATION, glyphs.MAX_ROTATION, size=5))
    scale = rng.uniform(*glyphs.SCALE_RANGE, size=5)
    shift = rng.uniform(-glyphs.MAX_SHIFT, glyphs.MAX_SHIFT, size=(5, 2)) * 16
    for i in range(5):
        c, s = np.cos(angle[i]) / scale[i], np.sin(angle[i]) / scale[i]
        m = np.array([[c, -s], [s, c]])  # (row, col) = (y, x)
        centre = 8.0
        offset = m @ (0.5 - centre - shift[i, ::-1]) + centre - 0.5
        want = affine_transform(masks[i].astype(np.float64), m, offset, order=1, mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(got[i], want, atol=1e-4)
