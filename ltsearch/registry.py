"""One small generic registry (methods, datasets, models, heads, lr and lambda schedules).

One registration style throughout: the ``@REGISTRY.register("name")`` decorator on the function
or class that the name stands for, in the module that defines it.
"""

from __future__ import annotations

import fnmatch
from typing import Callable, Generic, Iterator, TypeVar

from ltsearch.checks import shown_key
from ltsearch.errors import LTSearchError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object map that fails loudly on an unknown name.

    >>> MODELS = Registry("model")
    >>> @MODELS.register("resnet8")
    ... def resnet8(num_classes): ...
    >>> MODELS.get("resnet8")  # doctest: +ELLIPSIS
    <function resnet8 ...>

    ``Registry(kind, instances=True)`` holds one instance per decorated class (methods,
    datasets): ``register`` instantiates the class and sets the instance's ``name``.
    """

    def __init__(self, kind: str, instances: bool = False):
        self.kind = kind
        self.instances = instances
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            item = obj
            if self.instances:
                item = obj()
                item.name = name
            self._items[name] = item
            return obj

        return deco

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except (KeyError, TypeError):  # TypeError: an unhashable name (a list from YAML)
            raise LTSearchError(
                f"unknown {self.kind} '{shown_key(name)}'; choose one of: {', '.join(sorted(self._items))}"
            ) from None

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._items if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self):
        return [(n, self._items[n]) for n in self.names()]
