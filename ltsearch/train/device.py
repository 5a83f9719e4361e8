"""Device selection and the GPU speed-ups (bf16 autocast, channels_last, torch.compile), degrading to CPU.

``amp`` and ``channels_last`` default to ``auto``, from measurements on H100s (bench/RESULTS.md, "GPU"):
bf16 autocast + channels_last trains ResNet-50 at 224 px 2.0x faster than fp32, while for the CIFAR
ResNets at 32 px (small convolutions, a step bound by kernel launches) neither is consistently faster
(fp32 / bf16 = 0.82-1.28x over three machines), so ``auto`` keeps those in the papers' fp32 (cuDNN's TF32
convolutions). Their speed-up is ``compile: reduce-overhead`` (CUDA graphs): 2.1-3.3x per step.
"""

from __future__ import annotations

import contextlib
import random
import sys

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


FP32_MODELS = frozenset({"resnet8", "resnet20", "resnet32", "resnet34-cifar"})  # auto: no bf16, no channels_last


def gpu_speedup(setting: bool | str, model: str) -> bool:
    """``amp`` / ``channels_last``: true or false as given; ``auto``: on unless ``model`` is a CIFAR ResNet."""
    return model not in FP32_MODELS if setting == "auto" else bool(setting)


def compiled(model: torch.nn.Module, setting: bool | str):
    """The callable a trial trains and evaluates: the model itself, or ``torch.compile`` of it
    (``true``: mode "default"; else the mode named, e.g. "reduce-overhead" for CUDA graphs)."""
    if setting is False:
        return model
    return torch.compile(model, mode=None if setting is True else setting)


def step_begin() -> None:
    """Tell CUDA graphs (``reduce-overhead``) a new step starts: earlier outputs may be overwritten.
    Nothing to tell (and nothing imported) until a compiled model has loaded Inductor's CUDA graphs."""
    if "torch._inductor.cudagraph_trees" in sys.modules:
        torch.compiler.cudagraph_mark_step_begin()


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast on CUDA (the heads, losses and regularisers turn it off for themselves:
    only the backbone runs in bf16); a no-op context on CPU."""
    if device.type == "cuda" and enabled:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_format(device: torch.device, channels_last: bool):
    return torch.channels_last if (device.type == "cuda" and channels_last) else torch.contiguous_format


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices); cuDNN keeps its defaults (fast, not bit-exact)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
