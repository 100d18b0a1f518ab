"""Suite registry: name -> (builder, one-line description), behind one `create_suite` factory."""

from __future__ import annotations

from typing import Callable

from agents.config import SuiteConfig
from agents.errors import DataError
from agents.suites import digits, fashion_mnist, folder, mixed, textures
from agents.suites.base import TaskSuite

SUITES: dict[str, tuple[Callable[[SuiteConfig], TaskSuite], str]] = {
    "mixed": (
        mixed.build,
        "default: any number of tasks (102 unless num_tasks), disjoint class subsets of Fashion-MNIST, "
        "digits and photo patches, each under its own domain (tint, inversion, rotation, scale, background)",
    ),
    "fashion_mnist": (fashion_mnist.build, "Split-Fashion-MNIST: 5 tasks of 2 classes from the real IDX files"),
    "digits": (digits.build, "scikit-learn's 8x8 handwritten digits, upscaled: 5 tasks of 2 digits"),
    "textures": (textures.build, "patches of 20 photos bundled with scikit-image: 5 tasks of 4 photos"),
    "folder": (folder.build, "your images: <path>/<task>/{train,test}/<class>/*.png, one task per folder"),
}


def create_suite(cfg: SuiteConfig) -> TaskSuite:
    """Build the suite cfg.suite names; same cfg gives byte-identical arrays and fingerprints."""
    if cfg.suite not in SUITES:
        raise DataError(f"unknown suite {cfg.suite!r}; choose one of {', '.join(SUITES)}")
    builder, _ = SUITES[cfg.suite]
    return builder(cfg)


def list_suites() -> dict[str, str]:
    """Suite name -> one-line description (for `skill-sim list suites`)."""
    return {name: desc for name, (_, desc) in SUITES.items()}
