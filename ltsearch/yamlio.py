"""YAML in and out, safely, with YAML 1.2 scalars.

PyYAML follows YAML 1.1, where unquoted ``off``/``on``/``yes``/``no`` are booleans (so
``ga: off`` would read as ``False``) and ``1e-4`` is a string. ltsearch reads every file and
``--set`` value with :func:`safe_load`: a SafeLoader (plain data only, never code) whose
booleans are only ``true``/``false`` and whose floats include ``1e-4``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans and floats."""


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


def safe_load(text: str) -> Any:
    """Plain data from YAML text; a scalar PyYAML cannot convert raises ``yaml.YAMLError``."""
    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader subclass
    except (ValueError, TypeError, OverflowError) as err:  # e.g. "._" resolved as a float
        raise yaml.YAMLError(f"unreadable value ({err})") from None


def safe_dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
