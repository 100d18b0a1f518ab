"""learner.preset: named value sets that fill in the settings a scenario leaves unset."""

import pytest
from pydantic import ValidationError

from agents.config import GMMCConfig, LearnerConfig, MahalanobisConfig
from agents.presets import preset_names, preset_table, preset_values, register_preset_values


def test_default_preset_is_the_settings_own_defaults():
    assert LearnerConfig(preset="default") == LearnerConfig()
    assert LearnerConfig().mapper == GMMCConfig(prior="samples", reg_covar=0.01)
    assert {"default", "paper"} <= set(preset_names()) and preset_names()[0] == "default"


def test_paper_preset_gives_the_papers_mapper_of_either_kind():
    gmmc = LearnerConfig.model_validate({"preset": "paper"}).mapper
    assert gmmc == GMMCConfig(prior="uniform", reg_covar=1e-6, k=25)
    maha = LearnerConfig.model_validate({"preset": "paper", "mapper": {"kind": "mahalanobis"}}).mapper
    assert maha == MahalanobisConfig(share="images", m=5, exemplars="random", shrinkage=0.0)
    # A section given as a model (Python callers) is completed the same way.
    built = LearnerConfig(preset="paper", mapper=MahalanobisConfig(m=3))
    assert built.mapper == MahalanobisConfig(share="images", m=3, exemplars="random", shrinkage=0.0)


def test_values_written_in_the_scenario_win_over_the_preset():
    cfg = LearnerConfig.model_validate({"preset": "paper", "mapper": {"kind": "mahalanobis", "shrinkage": 0.2}})
    assert cfg.mapper.shrinkage == 0.2 and cfg.mapper.share == "images"
    cfg = LearnerConfig.model_validate({"preset": "paper", "mapper": {"reg_covar": 0.5}})  # no kind: gmmc
    assert cfg.mapper == GMMCConfig(prior="uniform", reg_covar=0.5)


def test_unknown_preset_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValidationError) as err:
        LearnerConfig.model_validate({"preset": "papr"})
    assert "preset" in str(err.value) and "'default'" in str(err.value) and "'paper'" in str(err.value)


def test_registry_merges_values_by_section_and_kind(monkeypatch):
    import copy

    import agents.presets as presets

    monkeypatch.setattr(presets, "_PRESETS", copy.deepcopy(presets._PRESETS))  # leave the real one as it was
    register_preset_values("unit_section", "unit_preset", {"a": 1, "b": 2})
    register_preset_values("unit_section", "unit_preset", {"b": 3}, kind="x")
    register_preset_values("unit_section", "unit_preset", {"c": 4})
    assert preset_values("unit_preset", "unit_section") == {"a": 1, "b": 2, "c": 4}
    assert preset_values("unit_preset", "unit_section", "x") == {"a": 1, "b": 3, "c": 4}
    assert preset_values("unit_preset", "unit_section", "y") == {"a": 1, "b": 2, "c": 4}
    assert ("unit_preset", "unit_section", "x", "b", 3) in preset_table()
