"""Device selection and the GPU-only speed-ups (bf16 autocast, channels_last), degrading to CPU."""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

from ltsearch.errors import LTSearchError


def select_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA if present, else CPU. An explicit ``cuda`` without a GPU is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise LTSearchError(f"device '{name}': no CUDA GPU is visible; use --set device=auto or cpu")
    return torch.device(name)


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast on CUDA (the heads, losses and regularisers turn it off for themselves:
    only the backbone runs in bf16); a no-op context on CPU."""
    if device.type == "cuda" and enabled:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(device: torch.device, channels_last: bool):
    return torch.channels_last if (device.type == "cuda" and channels_last) else torch.contiguous_format


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices); deterministic cuDNN algorithms off for speed."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
