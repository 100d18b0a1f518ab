"""Learner presets: named sets of learner values (`learner: {preset: paper}`), filled in before validation.

Each concern registers its own values for its own section of the learner config, so that one preset
is assembled from several small blocks (backbone, bb, mapper, ...) that do not know of each other.
Applying a preset fills only what the scenario leaves unset: a value written in the scenario (or
given with --set) always wins, and the resolved scenario shows every value the preset supplied.
"""

from __future__ import annotations

import copy
from typing import Any

DEFAULT_PRESET = "default"

# preset name -> learner section (dotted for nested sections, "" for the learner itself) -> kind
# (None: whatever kind; else only a section of that kind, e.g. the mapper's gmmc) -> values
_PRESETS: dict[str, dict[str, dict[str | None, dict[str, Any]]]] = {DEFAULT_PRESET: {}}
# Sections with kinds: the kind that a section naming none gets (the schema's default kind).
DEFAULT_KINDS: dict[str, str] = {"mapper": "gmmc"}


def register_preset_values(section: str, preset: str, values: dict[str, Any], kind: str | None = None) -> None:
    """Register `values` for learner `section` under `preset` (created on first use); with `kind`,
    only for a section of that kind (the mapper: gmmc or mahalanobis)."""
    if preset == DEFAULT_PRESET and values:
        raise ValueError(f"preset {DEFAULT_PRESET!r} is the schema's defaults; it takes no values")
    merged = _PRESETS.setdefault(preset, {}).setdefault(section, {}).setdefault(kind, {})
    clash = sorted(set(merged) & set(values))
    if clash:
        raise ValueError(f"preset {preset!r} section {section!r} kind {kind!r}: {clash} registered twice")
    merged.update(copy.deepcopy(values))


def preset_names() -> tuple[str, ...]:
    """The registered presets, the default first."""
    return (DEFAULT_PRESET, *sorted(p for p in _PRESETS if p != DEFAULT_PRESET))


def preset_values(preset: str, section: str, kind: str | None = None) -> dict[str, Any]:
    """A copy of what `preset` gives `section` (of `kind`, where the section has kinds)."""
    by_kind = _PRESETS.get(preset, {}).get(section, {})
    return copy.deepcopy({**by_kind.get(None, {}), **(by_kind.get(kind, {}) if kind is not None else {})})


def preset_table() -> list[tuple[str, str, str, str, Any]]:
    """(preset, section, kind or '', field, value) for every registered value, for docs and reports."""
    return [(preset, section, kind or "", key, value)
            for preset, sections in _PRESETS.items() for section, by_kind in sections.items()
            for kind, values in by_kind.items() for key, value in values.items()]


def apply_preset(raw: Any) -> Any:
    """A raw learner mapping with its preset's values filled in wherever the mapping leaves them unset.

    Anything that is not a mapping, or names an unknown preset, is returned unchanged: the schema then
    reports it (an unknown preset as a bad `preset` value with the allowed names). A section given as
    an already validated model counts as the fields it set.
    """
    name = raw.get("preset", DEFAULT_PRESET) if isinstance(raw, dict) else None
    sections = _PRESETS.get(name) if isinstance(name, str) else None
    if not sections:
        return raw
    out = copy.deepcopy(raw)
    for section in sections:
        node = out
        for part in filter(None, section.split(".")):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif hasattr(child, "model_dump"):  # a validated section: what it set, and its kind
                kind = getattr(child, "kind", None)
                child = node[part] = {**({"kind": kind} if kind else {}), **child.model_dump(exclude_unset=True)}
            if not isinstance(child, dict):
                break  # not a mapping: the schema reports it
            node = child
        else:
            kind = node.get("kind", DEFAULT_KINDS.get(section))
            values = preset_values(name, section, kind if isinstance(kind, str) else None)
            if values and section in DEFAULT_KINDS:
                node.setdefault("kind", kind)
            for key, value in values.items():
                node.setdefault(key, value)
    return out


# ---------------------------------------------------------------- paper: backbone and beneficial biases
# The paper's backbone: Keras' Xception, which timm ships as `legacy_xception` (22.9 M parameters,
# 2048-D features), at its native 299 px. ImageNet weights come from the hub; offline, set
# learner.backbone.weights to 'random' or a checkpoint file.
register_preset_values("backbone", "paper", {"name": "legacy_xception", "image_size": 299, "weights": "pretrained"})
# BB epochs: the paper reports 1.56e18 teacher MACs with BB against 1.73e16 without (90.17x). Under
# this simulator's cost model a task costs, in forwards per training image: 1 for its features, 0.15
# for the validation split of the plain head that BB starts from, then per BB epoch 0.85 training
# steps of 1.998 forwards each (forward + backward to the input of every biased layer, counted on
# legacy_xception at 299 px) plus 0.15 for validation: 1.15 + 1.848 * epochs. 48 epochs give 89.9x
# (-0.3 %), 49 give 91.7x. Patience 48 lets every epoch run, as the paper's count implies.
register_preset_values("bb", "paper", {"epochs": 48, "patience": 48})
