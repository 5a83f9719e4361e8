"""The method registry (one instance per method name)."""

from ltsearch.registry import Registry

METHODS: Registry = Registry("method")


def get_method(name: str):
    """The registered :class:`~ltsearch.methods.base.Method` called ``name`` (error lists choices)."""
    return METHODS.get(name)
