"""The test suite: one package per ltsearch package (tests/losses/ tests ltsearch/losses/, ...).

Shared code is imported package-relative: ``from ..helpers import tiny_config`` (tests/helpers.py),
fixtures come from tests/conftest.py (``ray_session``, ``cifar10_root``) and the folders' conftest.py.
"""
