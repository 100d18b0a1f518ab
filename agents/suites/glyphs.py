"""Glyph sources: the letters of many scripts and sets of symbols, rendered from the fonts that
matplotlib ships inside its wheel (no system font, no download), one class per character.

The fonts are DejaVu (Bitstream Vera licence with DejaVu's public-domain changes: use, copying and
rendering are free) and STIX General (SIL Open Font License 1.1); their licence files sit beside
them in matplotlib/mpl-data/fonts/ttf. A source uses every such font that has all of its
characters; the fonts are split, not the images: every fourth font (sorted by file name) renders
only test images, the others only training images, so a test image is a typeface never seen in
training. Each image is the glyph centred, scaled to fit, then randomly rotated, scaled and shifted.
Class names are the characters' Unicode names as slugs ("greek-small-letter-alpha"): meaningful, and
the same in every task and domain that uses them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from agents.errors import DataError

# Fonts with real outlines for whole scripts. Left out: LastResortHE (a placeholder box for every
# character), the Computer Modern and STIX NonUni/Size fonts (TeX encodings, not Unicode text),
# and DejaVu's Display cuts (a few hundred characters).
FONT_PREFIXES = ("DejaVuSans", "DejaVuSerif", "STIXGeneral")
FONT_EXCLUDE = ("Display",)
TEST_FONT_EVERY = 4  # fonts[3], fonts[7], ... render test images only
MIN_FONTS = 4  # a source needs at least 3 training typefaces and 1 test typeface


def _chars(first: int, last: int, skip: tuple[int, ...] = ()) -> tuple[str, ...]:
    return tuple(chr(c) for c in range(first, last + 1) if c not in skip)


# name -> characters. Scripts: whole alphabets; symbols: whole Unicode blocks (or their
# well-defined parts). Each is checked against the fonts when loaded (`fonts_for`).
SOURCES: dict[str, tuple[str, ...]] = {
    "latin-capital": _chars(0x41, 0x5A),
    "latin-small": _chars(0x61, 0x7A),
    "printed-digit": _chars(0x30, 0x39),
    "greek-capital": _chars(0x391, 0x3A9, skip=(0x3A2,)),  # 0x3A2 is unassigned
    "greek-small": _chars(0x3B1, 0x3C9, skip=(0x3C2,)),  # final sigma is a form of sigma
    "cyrillic-capital": _chars(0x410, 0x42F),
    "cyrillic-small": _chars(0x430, 0x44F),
    "armenian-capital": _chars(0x531, 0x556),
    "armenian-small": _chars(0x561, 0x586),
    "georgian": _chars(0x10D0, 0x10F0),
    "hebrew": _chars(0x5D0, 0x5EA),
    "lisu": _chars(0xA4D0, 0xA4F7),
    "roman-numeral": _chars(0x2160, 0x216B),
    "arrow": _chars(0x2190, 0x21FF),
    "math-operator": _chars(0x2200, 0x22FF),
    "box-drawing": _chars(0x2500, 0x257F),
    "geometric-shape": _chars(0x25A0, 0x25FF),
    "misc-symbol": _chars(0x2600, 0x2647),  # weather, hands, religious and political signs
    "zodiac": _chars(0x2648, 0x2653),
    "chess": _chars(0x2654, 0x265F),
    "braille": _chars(0x2801, 0x28FF),  # 0x2800 is the blank pattern
    "yijing-hexagram": _chars(0x4DC0, 0x4DFF),
    "domino": _chars(0x1F030, 0x1F093),
}
# Random geometry applied to each rendered glyph.
GLYPH_BOX = 0.8  # the glyph's longer side fills this fraction of the image before jitter
MAX_ROTATION = 12.0  # degrees either way
SCALE_RANGE = (0.75, 1.05)
MAX_SHIFT = 0.1  # fraction of the image side, each axis


def class_name(ch: str) -> str:
    """The Unicode name of `ch` as a slug: "GREEK SMALL LETTER ALPHA" -> "greek-small-letter-alpha"."""
    return unicodedata.name(ch).lower().replace(" ", "-")


def classes(source: str) -> tuple[str, ...]:
    """Class names of a glyph source, in code-point order."""
    return tuple(class_name(ch) for ch in SOURCES[source])


def font_dir() -> Path:
    """matplotlib's bundled TrueType folder."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=1)
def _cmaps() -> dict[str, frozenset[int]]:
    """Font file name -> the code points it maps, for every usable bundled font."""
    from fontTools.ttLib import TTFont

    folder = font_dir()
    files = sorted(p for p in folder.glob("*.ttf")
                   if p.name.startswith(FONT_PREFIXES) and not any(x in p.name for x in FONT_EXCLUDE))
    if not files:
        raise DataError(f"no DejaVu or STIX fonts in {str(folder)!r}; reinstall matplotlib "
                        f"(`pip install --force-reinstall matplotlib`), which ships them")
    return {p.name: frozenset(TTFont(p, lazy=True).getBestCmap()) for p in files}


@lru_cache(maxsize=len(SOURCES))
def fonts_for(source: str) -> dict[str, tuple[str, ...]]:
    """{"train": fonts, "test": fonts} that have every character of `source` (file names, sorted)."""
    needed = {ord(ch) for ch in SOURCES[source]}
    fonts = [name for name, cmap in _cmaps().items() if needed <= cmap]
    if len(fonts) < MIN_FONTS:
        raise DataError(f"glyph source {source!r}: only {len(fonts)} bundled font(s) {fonts} have all its "
                        f"characters, {MIN_FONTS} are needed; matplotlib's fonts in {str(font_dir())!r} "
                        f"are not the ones this suite was made for")
    test = tuple(f for i, f in enumerate(fonts) if i % TEST_FONT_EVERY == TEST_FONT_EVERY - 1)
    return {"train": tuple(f for f in fonts if f not in test), "test": test}


@lru_cache(maxsize=64)
def _font(name: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_dir() / name), px)


@lru_cache(maxsize=8192)
def master(font: str, ch: str, side: int) -> np.ndarray:
    """`ch` in `font` as a float32 coverage mask [side, side] in [0, 1] (read-only; cached).

    The em box is centred and spans GLYPH_BOX of the side, so a glyph keeps its size and place in
    it (a braille dot's position, a lower-case letter's height); one that would overflow the image
    (a wide domino tile) is shrunk about the centre until it fits.
    """
    em = 4 * round(GLYPH_BOX * side)  # drawn at 4x, then filtered down
    half = 2 * em
    canvas = Image.new("L", (2 * half, 2 * half), 0)
    ImageDraw.Draw(canvas).text((half, half), ch, fill=255, font=_font(font, em), anchor="mm")
    box = canvas.getbbox()
    if box is None:
        raise DataError(f"font {font!r} draws nothing for {class_name(ch)!r} (U+{ord(ch):04X})")
    reach = max(half - box[0], box[2] - half, half - box[1], box[3] - half)  # ink's farthest side
    r = max(round(em / GLYPH_BOX / 2), round(reach / GLYPH_BOX))  # half the crop: the image's side
    glyph = canvas.crop((half - r, half - r, half + r, half + r)).resize((side, side), Image.LANCZOS)
    a = np.asarray(glyph, dtype=np.float32) / 255.0
    a.flags.writeable = False
    return a


def jitter(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotate, scale and shift each mask [n, side, side] at random about its centre (bilinear,
    zero outside): one whole-batch gather, since a suite draws tens of thousands."""
    n, side = masks.shape[0], masks.shape[1]
    angle = np.deg2rad(rng.uniform(-MAX_ROTATION, MAX_ROTATION, size=n))
    scale = rng.uniform(*SCALE_RANGE, size=n)
    shift = rng.uniform(-MAX_SHIFT, MAX_SHIFT, size=(n, 2)) * side
    # Inverse map, output pixel centre -> input position: p_in = R(-angle) (p_out - c - shift) / scale + c.
    grid = np.arange(side, dtype=np.float32) + np.float32(0.5 - side / 2)
    ox = grid[None, None, :] - shift[:, 0, None, None].astype(np.float32)
    oy = grid[None, :, None] - shift[:, 1, None, None].astype(np.float32)
    cos = (np.cos(angle) / scale).astype(np.float32)[:, None, None]
    sin = (np.sin(angle) / scale).astype(np.float32)[:, None, None]
    x = cos * ox + sin * oy + np.float32(side / 2 - 0.5)
    y = -sin * ox + cos * oy + np.float32(side / 2 - 0.5)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    # Flat indices into the masks with a 2-pixel zero border; a corner outside the image is
    # clipped into the border, so both of its neighbours read 0.
    w = side + 4
    padded = np.pad(masks, ((0, 0), (2, 2), (2, 2))).ravel()
    base = (np.arange(n, dtype=np.int64) * w * w)[:, None, None]
    i00 = (base + (np.clip(y0, -2, side).astype(np.int32) + 2) * w
           + np.clip(x0, -2, side).astype(np.int32) + 2)
    out = ((1 - fy) * ((1 - fx) * padded[i00] + fx * padded[i00 + 1])
           + fy * ((1 - fx) * padded[i00 + w] + fx * padded[i00 + w + 1]))
    return out


@dataclass(frozen=True)
class GlyphSampler:
    """Draws images of one glyph source's classes at one size (the mixed-style Source.sample)."""

    source: str
    size: int

    def __call__(self, c: int, split: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """`n` float32 masks [n, size, size] of class `c`, each in a font of `split` drawn at random."""
        ch = SOURCES[self.source][c]
        fonts = fonts_for(self.source)[split]
        which = rng.integers(len(fonts), size=n)
        return jitter(np.stack([master(fonts[f], ch, self.size) for f in which]), rng)
