"""Checkpoints: atomic writes, weights-only loads, errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ltsearch.errors import LTSearchError
from ltsearch.fileio import open_atomic


def save_atomic(obj: Any, path: str | Path) -> None:
    """Write to a new temporary file, then rename: a crash never leaves a half-written checkpoint.

    The temporary name is random and created exclusively, so a link planted at a predictable
    ``*.tmp`` name is never followed; the rename replaces a link at ``path``, never its target.
    """
    with open_atomic(path, "wb") as f:
        torch.save(obj, f)


def load_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict:
    """``torch.load(weights_only=True)``: tensors and plain containers only, never code."""
    path = Path(path)
    if not path.is_file():
        raise LTSearchError(f"{path}: checkpoint not found; check the path")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated, not a torch file, or contains pickled code
        reason = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise LTSearchError(f"{path}: unreadable checkpoint ({reason}); give a checkpoint written by ltsearch") from None
    if not isinstance(obj, dict):
        raise LTSearchError(f"{path}: not an ltsearch checkpoint (expected a mapping); give one written by ltsearch")
    return obj


def load_model_weights(model: torch.nn.Module, path: str | Path) -> None:
    """Load ``model`` (or ``state["model"]``) weights from ``path``; shape mismatches name the file."""
    state = load_checkpoint(path)
    weights = state.get("model", state)
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError) as err:
        first = str(err).splitlines()[0][:160]
        raise LTSearchError(f"{path}: weights do not fit this model ({first}); use a checkpoint of the same "
                            f"model and dataset") from None
