"""Writing report files safely: one atomic replace, never through a link or onto a device.

:func:`atomic_write` writes to a fresh temporary file in the target's folder (``mkstemp``:
``O_CREAT | O_EXCL`` with a random name, so a pre-existing ``<out>.tmp`` symlink is never
followed) and ``os.replace``s the target with it, so a reader sees the old file or the new one,
never half of one. A target that is a folder, a device (``/dev/full``), a FIFO or a socket is
refused with the one-line error. A missing folder is created when the caller asks for it
(``mkdir=True``: every CLI output, documented in the README), else refused.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterator

from ltsearch.errors import LTSearchError


def check_target(path: str | Path, flag: str = "--output", mkdir: bool = False) -> Path:
    """``path`` if a regular file can be written there (the one-line error otherwise)."""
    path = Path(path)
    try:
        st = path.stat()  # follows a symlink: a link to /dev/full is a device
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as err:
        raise LTSearchError(f"{flag} {path}: cannot be read ({err.strerror}); choose another file") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise LTSearchError(f"{flag} {path}: is a folder; give a file name inside it, e.g. {path / 'out'}")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise LTSearchError(f"{flag} {path}: is not a regular file (a device, pipe or socket); write to a file")
    parent = path.parent
    if not parent.is_dir():
        existing = next((p for p in parent.parents if p.exists()), None)
        if parent.exists() or (existing is not None and not existing.is_dir()):
            raise LTSearchError(f"{flag} {path}: {parent} is not a folder; choose another file name")
        if not mkdir:
            raise LTSearchError(f"{flag} {path}: the folder {parent} does not exist; create it first "
                                f"(mkdir -p {parent})")
    return path  # a missing folder is created by atomic_write (mkdir=True), not by this check


@contextlib.contextmanager
def atomic_write(path: str | Path, *, binary: bool = False, flag: str = "--output",
                 mkdir: bool = False) -> Iterator[IO]:
    """``with atomic_write(p) as f: f.write(...)``: ``p`` is replaced only when the block succeeds."""
    path = check_target(path, flag, mkdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str, *, flag: str = "--output", mkdir: bool = False) -> Path:
    with atomic_write(path, flag=flag, mkdir=mkdir) as f:
        f.write(text)
    return Path(path)
