"""The method registry (one instance per method name, registered with ``@METHODS.register``)."""

from ltsearch.registry import Registry

METHODS: Registry = Registry("method", instances=True)


def get_method(name: str):
    """The registered :class:`~ltsearch.methods.base.Method` called ``name`` (error lists choices)."""
    return METHODS.get(name)
