"""Bad-input cases: one file per layer that rejects them (flags, YAML, config, space, stores, data)."""

import pytest

from .harness import preload


@pytest.fixture(scope="session", autouse=True)
def _warm():
    preload()
