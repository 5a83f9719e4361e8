"""One small generic registry (methods, datasets, models, lambda schedules, ...)."""

from __future__ import annotations

import fnmatch
from typing import Callable, Generic, Iterator, TypeVar

from ltsearch.errors import LTSearchError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object map that fails loudly on an unknown name.

    >>> MODELS = Registry("model")
    >>> @MODELS.register("resnet8")
    ... def resnet8(num_classes): ...
    >>> MODELS.get("resnet8")  # doctest: +ELLIPSIS
    <function resnet8 ...>
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            self._items[name] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> T:
        return self.register(name)(obj)

    def get(self, name: str) -> T:
        from ltsearch.checks import shown_key

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
