"""Fixtures for suite tests: the Fashion-MNIST folder (skip where the Debian package is absent)."""

from pathlib import Path

import pytest

from agents.suites import fashion_mnist


@pytest.fixture(scope="session")
def fmnist_path() -> Path:
    path = fashion_mnist.resolve_path(None)
    if not (path / "train-images-idx3-ubyte.gz").exists() and not (path / "train-images-idx3-ubyte").exists():
        pytest.skip(f"Fashion-MNIST not at {path} (apt-get install -y dataset-fashion-mnist)")
    return path
