"""On-disk cache of decoded uint8 tensors (``$LTSEARCH_CACHE``, else ``~/.cache/ltsearch``)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable


def cache_dir() -> Path:
    return Path(os.environ.get("LTSEARCH_CACHE") or "~/.cache/ltsearch").expanduser()


def tree_fingerprint(folders: list[Path]) -> dict:
    """File count and newest mtime of ``folders`` and their direct sub-folders (cheap: no file stat)."""
    count, mtime = 0, 0.0
    for folder in folders:
        for entry in os.scandir(folder):
            if entry.is_dir():
                mtime = max(mtime, entry.stat().st_mtime)
                count += sum(1 for _ in os.scandir(entry.path))
        mtime = max(mtime, folder.stat().st_mtime)
    return {"files": count, "mtime": mtime}


def cached_tensors(tag: str, key: dict, build: Callable[[], dict]) -> dict:
    """Return ``build()`` (a dict of tensors / plain data), memoised in a ``.pt`` file keyed by ``key``.

    The file is written atomically; an unreadable cache file is rebuilt.
    """
    import torch

    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = cache_dir() / "tensors" / f"{tag}-{digest}.pt"
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # a truncated or stale cache file: rebuild it
            pass
    value = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(value, tmp)
    os.replace(tmp, path)
    return value
