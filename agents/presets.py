"""Presets: named sets of learner settings (`learner.preset`), e.g. `paper` for exactly the SKILL
paper's method. Each concern registers its own values beside its settings model, so the mapper,
the beneficial biases and the backbone each own their part of a preset.

A preset fills in only the settings a scenario leaves unset: values written in the scenario win.
"""

from __future__ import annotations

from typing import Any

# preset -> section -> kind (None: any kind) -> {field: value}
_PRESETS: dict[str, dict[str, dict[str | None, dict[str, Any]]]] = {"default": {}}


def register_preset_values(section: str, preset: str, values: dict[str, Any], kind: str | None = None) -> None:
    """Register `values` for `learner.<section>` under `preset`; `kind` limits them to one kind of a
    section that has kinds (the mapper: gmmc or mahalanobis). Registering twice merges, later wins."""
    slot = _PRESETS.setdefault(preset, {}).setdefault(section, {}).setdefault(kind, {})
    slot.update(values)


def preset_names() -> tuple[str, ...]:
    """Every registered preset, `default` (no values: the settings' own defaults) first."""
    return tuple(_PRESETS)


def preset_values(preset: str, section: str, kind: str | None = None) -> dict[str, Any]:
    """Values `preset` gives `learner.<section>` (of `kind`, when the section has kinds)."""
    by_kind = _PRESETS.get(preset, {}).get(section, {})
    return {**by_kind.get(None, {}), **(by_kind.get(kind, {}) if kind is not None else {})}


def preset_sections(preset: str) -> tuple[str, ...]:
    """Sections of the learner that `preset` sets values in."""
    return tuple(_PRESETS.get(preset, {}))


def preset_table() -> list[tuple[str, str, str, str, Any]]:
    """(preset, section, kind or '', field, value) for every registered value, for docs and reports."""
    rows = []
    for preset, sections in _PRESETS.items():
        for section, by_kind in sections.items():
            for kind, values in by_kind.items():
                rows += [(preset, section, kind or "", key, value) for key, value in values.items()]
    return rows
