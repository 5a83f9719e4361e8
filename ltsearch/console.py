"""The width of rich output: the terminal's own, or a wide fixed one when output goes to a file or pipe."""

from __future__ import annotations

import os
from typing import TextIO

PIPE_WIDTH = 160  # output to a file or pipe (rich's default there is 80): names in tables stay whole


def width_for(stream: TextIO) -> int | None:
    """None (rich sizes to the terminal or ``$COLUMNS``) where ``stream`` is a terminal or COLUMNS is
    set; :data:`PIPE_WIDTH` otherwise."""
    if os.environ.get("COLUMNS") or stream.isatty():
        return None
    return PIPE_WIDTH


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` in the number ``n`` asks for: ``1 row``, ``3 rows``, ``0 runs``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
