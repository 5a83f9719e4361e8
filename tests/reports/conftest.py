"""The store the report tests read (made once per session: the grid search is the slow part)."""

import pytest

from .grid_store import make_store


@pytest.fixture(scope="session")
def store(tmp_path_factory, ray_session):
    return make_store(tmp_path_factory.mktemp("mlstore"))
