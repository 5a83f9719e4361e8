"""YAML in and out, safely, with YAML 1.2 scalars.

PyYAML follows YAML 1.1, where unquoted ``off``/``on``/``yes``/``no`` are booleans (so
``ga: off`` would read as ``False``) and ``1e-4`` is a string. ltsearch reads every file and
``--set`` value with :func:`safe_load`: a SafeLoader (plain data only, never code) whose
booleans are only ``true``/``false`` and whose floats include ``1e-4``.

Input is bounded before it can cost memory or time: at most ``MAX_BYTES`` of text,
``MAX_DEPTH`` levels of nesting and ``MAX_NODES`` nodes once aliases are expanded (a
"billion laughs" document of a few hundred bytes stops at the limit, as does a recursive
alias). Breaking a limit is a one-line :class:`~ltsearch.errors.LTSearchError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, ScalarEvent

from ltsearch.errors import LTSearchError

MAX_BYTES = 1_000_000  # a config or space file is a few KB
MAX_DEPTH = 100  # levels of nested mappings / lists
MAX_NODES = 100_000  # nodes of the document with every alias expanded


class YAMLLimitError(LTSearchError):
    """A YAML input over one of the limits (size, nesting, alias expansion)."""


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans and floats, and bounded composition: nesting
    depth and the node count with aliases expanded are counted while the document is composed."""

    where = "YAML input"

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._size: dict[int, int] = {}  # id(node) -> nodes below it, aliases expanded
        self._open: set[str] = set()  # anchors whose node is being composed (an alias to one recurses)

    # the scanner looks ahead over open flow collections; stop it at the depth limit, not at the end
    def fetch_flow_collection_start(self, TokenClass):
        if self.flow_level >= MAX_DEPTH:
            self._limit(f"nesting deeper than {MAX_DEPTH} levels", None, self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column):
        if len(self.indents) >= MAX_DEPTH:
            self._limit(f"nesting deeper than {MAX_DEPTH} levels", None, self.get_mark())
        return super().add_indent(column)

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self._open:
                self._limit(f"alias *{event.anchor} refers to its own anchor (a recursive document)", event)
            return super().compose_node(parent, index)  # the anchor's node: its size counts again
        if not isinstance(event, ScalarEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                self._limit(f"nesting deeper than {MAX_DEPTH} levels", event)
        if event.anchor is not None:
            self._open.add(event.anchor)
        node = super().compose_node(parent, index)
        if event.anchor is not None:
            self._open.discard(event.anchor)
        if isinstance(event, ScalarEvent):
            size = 1
        else:
            self._depth -= 1
            kids = node.value if not isinstance(node, yaml.MappingNode) else [n for kv in node.value for n in kv]
            size = 1 + sum(self._size.get(id(k), 1) for k in kids)
            if size > MAX_NODES:
                self._limit(f"more than {MAX_NODES:,} values once aliases are expanded (an alias bomb?)", event)
        self._size[id(node)] = size
        return node

    def _limit(self, problem: str, event, mark=None) -> None:
        mark = mark or getattr(event, "start_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise YAMLLimitError(f"{self.where}{line}: {problem}; configs and spaces are small plain documents, "
                             f"write the values out") from None


Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                             list("tTfF"))
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)[eE][-+]?[0-9]+$"),  # 1e-4, 1.5E3, .5e2
    list("-+0123456789."),
)


def safe_load(text: str, where: str = "YAML input") -> Any:
    """Plain data from YAML text; a scalar PyYAML cannot convert raises ``yaml.YAMLError``, input
    over a limit :class:`YAMLLimitError` (naming ``where``)."""
    if len(text) > MAX_BYTES:
        raise YAMLLimitError(f"{where}: larger than {MAX_BYTES // 1_000_000} MB ({len(text):,} characters); "
                             f"configs and spaces are small plain documents")
    loader = Loader(text)
    loader.where = where
    try:
        return loader.get_single_data()
    except (ValueError, TypeError, OverflowError) as err:  # e.g. "._" resolved as a float
        raise yaml.MarkedYAMLError(problem=f"unreadable value ({str(err)[:80]})") from None
    except RecursionError:
        raise YAMLLimitError(f"{where}: nested too deeply; write the values out") from None
    finally:
        loader.dispose()


def read_text(path: str | Path) -> str:
    """The text of a YAML file, read no further than the size limit."""
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YAMLLimitError(f"{path}: larger than {MAX_BYTES // 1_000_000} MB; configs and spaces are small "
                             f"plain documents (is this the right file?)")
    return data.decode("utf-8")


def safe_dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
