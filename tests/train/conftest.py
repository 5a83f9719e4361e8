"""The digits-lt data the trials of a module share (loaded once per module, as run_trial's ``data``)."""

import pytest


@pytest.fixture(scope="module")
def digits():
    from ltsearch.data import DatasetSpec, load_dataset

    return load_dataset(DatasetSpec(name="digits-lt", imbalance_ratio=10))
