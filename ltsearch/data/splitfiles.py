"""Readers of split files: ``relative/path label`` text lists and iNaturalist COCO-style JSON."""

from __future__ import annotations

import json
from pathlib import Path

from ltsearch.errors import LTSearchError

MAX_CLASSES = 100_000  # iNaturalist 2018 has 8,142; a label beyond this is a corrupt file, not a class


def find_split_file(root: Path, name: str, required: bool = True) -> Path | None:
    """``root/name`` or ``root/splits/name``; a missing required file raises LTSearchError."""
    for folder in (root, root / "splits"):
        if (folder / name).is_file():
            return folder / name
    if required:
        raise LTSearchError(
            f"{root / name}: split file not found (also looked in {root / 'splits'}); "
            f"put {name} in the data root"
        )
    return None


def read_list(path: Path, num_classes: int | None = None) -> tuple[list[str], list[int]]:
    """Parse ``relative/path label`` lines (blank lines skipped); errors name ``path:line``.

    Labels must be >= 0 and, when ``num_classes`` is given, below it.
    """
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise LTSearchError(f"{path}: cannot read split file ({err}); check the file") from None
    paths, labels = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.rsplit(None, 1)
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise LTSearchError(
                f"{path}:{n}: expected 'relative/path label', got {line.strip()[:80]!r}; "
                "the split file may be truncated, re-download it"
            )
        label = int(parts[1]) if len(parts[1]) <= 12 else MAX_CLASSES
        if label < 0 or label >= (num_classes if num_classes is not None else MAX_CLASSES):
            upper = num_classes if num_classes is not None else MAX_CLASSES
            raise LTSearchError(
                f"{path}:{n}: label {parts[1][:20]} out of range [0, {upper}); "
                "fix the split file or use the matching training split"
            )
        paths.append(parts[0].strip())
        labels.append(label)
    if not paths:
        raise LTSearchError(f"{path}: split file is empty; re-download it")
    return paths, labels


def read_coco(path: Path) -> tuple[list[str], list[int], dict[int, str]]:
    """iNaturalist ``{train,val}2018.json``: (file names, category ids, {id: category name})."""
    try:
        blob = json.loads(path.read_text())
        files = {img["id"]: img["file_name"] for img in blob["images"]}
        pairs = [(files[a["image_id"]], int(a["category_id"])) for a in blob["annotations"]]
        names = {int(c["id"]): str(c.get("name", c["id"])) for c in blob.get("categories", [])}
    except json.JSONDecodeError as err:
        raise LTSearchError(
            f"{path}: invalid JSON at line {err.lineno} ({err.msg}); the file may be truncated, re-download it"
        ) from None
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise LTSearchError(
            f"{path}: not an iNaturalist annotation file ({type(err).__name__}: {err}); "
            "expected images[{id, file_name}] and annotations[{image_id, category_id}]"
        ) from None
    if not pairs:
        raise LTSearchError(f"{path}: no annotations; re-download it")
    check_labels(path, [c for _, c in pairs], MAX_CLASSES)
    return [p for p, _ in pairs], [c for _, c in pairs], names


def check_labels(path: Path, labels: list[int], num_classes: int) -> None:
    """Every label must lie in ``[0, num_classes)``; the error names the file and the first bad label."""
    for i, y in enumerate(labels):
        if not 0 <= y < num_classes:
            raise LTSearchError(
                f"{path}: label {y} (entry {i + 1}) out of range [0, {num_classes}); "
                "fix the split file or use the matching training split"
            )
