"""Atomic file writes that never follow a link: the one way ltsearch replaces a file.

The new content goes to a temporary file with a random name in the same folder, created with
``O_EXCL`` (so a file or link planted at a predictable ``*.tmp`` name is never opened), then
``os.replace`` swaps it in: a reader sees the old or the new file, never half of one, and a link
at the destination is replaced, never written through.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def open_atomic(path: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """``with open_atomic(p) as f: f.write(...)`` -> ``p`` replaced atomically on success."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` (see the module docstring)."""
    with open_atomic(path) as f:
        f.write(text)
