"""Domain transforms for the mixed suite: tint, inversion, rotation, scale, background, combined.

A source image is turned into a foreground colour and an alpha mask (grey sources: the stroke is
the mask; photo patches: opaque), geometry is applied to both, the result is composited over a
background, then optionally inverted. Every step is a whole-batch numpy operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.suites.images import resize
from agents.suites.textures import sample_patches

# Six well-separated hues, so that two tints are never confused by a task mapper.
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.15, 0.15),
    "green": (0.15, 0.85, 0.2),
    "blue": (0.2, 0.35, 1.0),
    "yellow": (1.0, 0.9, 0.1),
    "cyan": (0.1, 0.9, 0.9),
    "magenta": (0.95, 0.2, 0.9),
}
# Texture-like bundled photos used as backgrounds.
BACKGROUND_PHOTOS = ("brick", "grass", "gravel")
# "small" draws the object at 60% of the image side, centred on the background.
SMALL_SCALE = 0.6


@dataclass(frozen=True)
class Domain:
    """One visual domain: what is done to every image of a task (train and test alike)."""

    tint: str | None = None  # a COLOURS key: stroke colour (grey sources) or colourised photo
    invert: bool = False
    rotate: int = 0  # degrees counter-clockwise, a multiple of 90
    small: bool = False
    background: str | None = None  # None (black), a COLOURS key, or a BACKGROUND_PHOTOS name

    @property
    def name(self) -> str:
        """Short readable name, e.g. "tint-red+rot90+bg-brick"; "plain" when nothing is changed."""
        parts = []
        if self.tint:
            parts.append(f"tint-{self.tint}")
        if self.invert:
            parts.append("inv")
        if self.rotate:
            parts.append(f"rot{self.rotate}")
        if self.small:
            parts.append("small")
        if self.background:
            parts.append(f"bg-{self.background}")
        return "+".join(parts) or "plain"


def random_domain(rng: np.random.Generator, kind: str) -> Domain:
    """Draw a domain; each change is independent, so most domains combine one to three changes.

    Photo patches ("rgb") are opaque, so a background is only drawn for them when `small` leaves a
    border for it to show in.
    """
    tint = str(rng.choice(list(COLOURS))) if rng.random() < 0.6 else None
    invert = bool(rng.random() < 0.3)
    rotate = int(rng.choice([90, 180, 270])) if rng.random() < 0.4 else 0
    small = bool(rng.random() < 0.3)
    background = None
    if (kind == "gray" or small) and rng.random() < 0.45:
        background = str(rng.choice(_background_options(tint)))
    return Domain(tint, invert, rotate, small, background)


def _background_options(tint: str | None) -> list[str]:
    return [c for c in COLOURS if c != tint] + list(BACKGROUND_PHOTOS)


def all_domains(kind: str) -> list[tuple[Domain, float]]:
    """Every domain `random_domain(rng, kind)` can return, with the probability it returns it.

    The probabilities sum to 1 (a test checks them against draws); `distinct_domains` uses them to
    list a source's domains without repeats, in random_domain's order of likelihood.
    """
    out = []
    for tint in (None, *COLOURS):
        p_tint = 0.4 if tint is None else 0.6 / len(COLOURS)
        for invert in (False, True):
            for rotate in (0, 90, 180, 270):
                for small in (False, True):
                    p = p_tint * (0.3 if invert else 0.7) * (0.6 if rotate == 0 else 0.4 / 3) * (0.3 if small else 0.7)
                    if kind == "gray" or small:
                        options = _background_options(tint)
                        out.append((Domain(tint, invert, rotate, small, None), p * 0.55))
                        out += [(Domain(tint, invert, rotate, small, b), p * 0.45 / len(options)) for b in options]
                    else:
                        out.append((Domain(tint, invert, rotate, small, None), p))
    return out


def distinct_domains(kind: str, rng: np.random.Generator) -> list[Domain]:
    """Every domain of `kind` once, in a random order that draws likely ones first: a weighted
    sample without replacement (Gumbel top-k), so the first few follow `random_domain`'s odds."""
    domains, p = zip(*all_domains(kind))
    keys = np.log(np.array(p)) + rng.gumbel(size=len(p))
    return [domains[i] for i in np.argsort(-keys, kind="stable")]


def apply_domain(
    domain: Domain, x: np.ndarray, kind: str, split: str, rng: np.random.Generator
) -> np.ndarray:
    """Transform float images in [0, 1] (grey [N, S, S] or RGB [N, S, S, 3]) to RGB [N, S, S, 3].

    `split` picks the part of a background photo to draw from, so test backgrounds are unseen too.
    """
    n, size = x.shape[0], x.shape[1]
    if kind == "gray":
        alpha = x[..., None]
        colour = np.array(COLOURS[domain.tint] if domain.tint else (1.0, 1.0, 1.0), dtype=np.float32)
        fg = np.broadcast_to(colour, x.shape + (3,))
    else:
        alpha = np.ones(x.shape[:3] + (1,), dtype=np.float32)
        fg = x
        if domain.tint:
            lum = x.mean(axis=-1, keepdims=True)
            fg = 0.35 * x + 0.65 * lum * np.array(COLOURS[domain.tint], dtype=np.float32)
    if domain.rotate:
        k = domain.rotate // 90
        alpha, fg = np.rot90(alpha, k, axes=(1, 2)), np.rot90(fg, k, axes=(1, 2))
    if domain.small:
        m = max(2, int(round(SMALL_SCALE * size)))
        o = (size - m) // 2
        canvas_a = np.zeros((n, size, size, 1), dtype=np.float32)
        canvas_f = np.zeros((n, size, size, 3), dtype=np.float32)
        canvas_a[:, o : o + m, o : o + m] = resize(alpha, m)
        canvas_f[:, o : o + m, o : o + m] = resize(np.ascontiguousarray(fg), m)
        alpha, fg = canvas_a, canvas_f
    if domain.background in COLOURS:
        bg = np.array(COLOURS[domain.background], dtype=np.float32)
    elif domain.background in BACKGROUND_PHOTOS:
        bg = sample_patches(domain.background, split, n, size, rng).astype(np.float32) / 255.0
    else:
        bg = np.float32(0.0)
    out = alpha * fg + (1.0 - alpha) * bg
    if domain.invert:
        out = 1.0 - out
    return out.astype(np.float32)
