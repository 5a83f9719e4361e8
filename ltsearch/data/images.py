"""Decode image files into one uint8 [N, 3, H, W] tensor (torchvision.io, 2 threads)."""

from __future__ import annotations

import contextlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from ltsearch.errors import LTSearchError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".tif", ".tiff")


def list_images(folder: Path) -> list[str]:
    """Paths of the image files directly inside ``folder``, sorted by name (the "file order")."""
    with os.scandir(folder) as it:
        names = sorted(e.name for e in it if e.name.lower().endswith(IMAGE_EXTENSIONS) and e.is_file())
    base = str(folder)
    return [os.path.join(base, n) for n in names]


def class_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def corrupt(path: str | Path, err: Exception | str) -> LTSearchError:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return LTSearchError(f"{path}: cannot decode image ({text}); replace or delete the file")


def decode_one(path: str | Path):
    """One RGB image as uint8 [3, H, W]; a corrupt file raises LTSearchError naming it."""
    import torch
    import torchvision.io as tio

    try:
        data = torch.frombuffer(bytearray(Path(path).read_bytes()), dtype=torch.uint8)
        return tio.decode_image(data, mode=tio.ImageReadMode.RGB)
    except Exception:
        pass
    try:  # formats torchvision.io does not read (bmp, tiff, ...)
        import numpy as np
        from PIL import Image

        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"))
        return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
    except Exception as err:
        raise corrupt(path, err) from None


def decode_images(paths: Sequence[str | Path], size: int, threads: int = 2):
    """Decode ``paths`` (each ``size`` x ``size``) into uint8 [N, 3, size, size]."""
    import torch
    import torchvision.io  # noqa: F401  (imported once here, not concurrently in the threads)

    out = torch.empty((len(paths), 3, size, size), dtype=torch.uint8)

    def work(start: int, stop: int) -> None:
        for i in range(start, stop):
            img = decode_one(paths[i])
            if tuple(img.shape[1:]) != (size, size):
                raise LTSearchError(
                    f"{paths[i]}: image is {img.shape[2]}x{img.shape[1]}, expected {size}x{size}; "
                    "use the dataset's original image files"
                )
            out[i] = img

    n = len(paths)
    with _libpng_quiet():
        if threads <= 1 or n < 256:
            work(0, n)
        else:
            bounds = [n * k // threads for k in range(threads + 1)]
            with ThreadPoolExecutor(threads) as pool:
                for f in [pool.submit(work, a, b) for a, b in zip(bounds, bounds[1:])]:
                    f.result()
    return out


@contextlib.contextmanager
def _libpng_quiet():
    """libpng prints "libpng error: ..." on stderr (fd 2) for a corrupt PNG before torchvision raises;
    the one-line error naming the file comes from :func:`corrupt`, so fd 2 is muted while decoding."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
