"""Files a trial folder holds for the tracker, and how to read them back.

A trial writes ``metrics.jsonl`` (one dict per epoch), ``per_class.csv`` (one row per
class: ``class, name, train_count, group, val_acc, test_acc, ...``) and, through
:func:`write_confusion`, ``confusion.csv``: the confusion matrix of the held-out split,
counts, row = true class, column = predicted class, header = class names. No torch, no
mlflow here: the trial imports :func:`write_confusion`, the figures read the rest.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Sequence

from ltsearch.fileio import open_atomic

CONFUSION_FILE = "confusion.csv"
PER_CLASS_FILE = "per_class.csv"
METRICS_FILE = "metrics.jsonl"
# a run of a lower sh rung: its config at the search's full budget (what `ltsearch confirm` retrains)
FULL_BUDGET_CONFIG_FILE = "full_budget_config.yaml"
MAX_CONFUSION_CLASSES = 100  # above this a matrix is neither readable nor worth the bytes


def _as_list(x: Any) -> list[int]:
    if hasattr(x, "detach"):  # torch tensor (on any device)
        x = x.detach().cpu()
    if hasattr(x, "tolist"):
        x = x.tolist()
    return [int(v) for v in x]


def confusion_counts(labels: Any, predictions: Any, num_classes: int) -> list[list[int]]:
    """``C[i][j]`` = number of samples of true class ``i`` predicted as ``j``.

    ``labels`` and ``predictions`` are 1-D sequences of class indices (lists, numpy arrays or
    torch tensors, e.g. ``logits.argmax(1)``) of the same length.
    """
    y, p = _as_list(labels), _as_list(predictions)
    if len(y) != len(p):
        raise ValueError(f"confusion: {len(y)} labels but {len(p)} predictions")
    matrix = [[0] * num_classes for _ in range(num_classes)]
    for t, q in zip(y, p):
        matrix[t][q] += 1
    return matrix


def write_confusion(path: str | Path, labels: Any, predictions: Any, num_classes: int,
                    class_names: Sequence[str] | None = None,
                    max_classes: int = MAX_CONFUSION_CLASSES) -> Path | None:
    """Write ``confusion.csv`` (counts; header ``true\\pred`` + class names); returns its path.

    Nothing is written (returns None) for more than ``max_classes`` classes. ``path`` may be
    the trial folder (the file is then ``<folder>/confusion.csv``).
    """
    if num_classes > max_classes:
        return None
    path = Path(path)
    if path.is_dir():
        path = path / CONFUSION_FILE
    names = [str(n) for n in (class_names or range(num_classes))]
    matrix = confusion_counts(labels, predictions, num_classes)
    with open_atomic(path, newline="") as f:
        w = csv.writer(f)
        w.writerow(["true\\pred", *names])
        for name, row in zip(names, matrix):
            w.writerow([name, *row])
    return path


def read_confusion(path: str | Path) -> tuple[list[str], list[list[int]]]:
    """(class names, count matrix) of a ``confusion.csv``."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    names = rows[0][1:]
    return names, [[int(v) for v in r[1:]] for r in rows[1:]]


def read_metrics(path: str | Path) -> list[dict]:
    """The epochs of a ``metrics.jsonl`` (a torn last line, from a killed trial, is skipped);
    a resumed trial's repeated epochs keep their last record."""
    by_epoch: dict[int, dict] = {}
    for line in Path(path).read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and "epoch" in rec:
            by_epoch[int(rec["epoch"])] = rec
    return [by_epoch[e] for e in sorted(by_epoch)]


def read_per_class(path: str | Path) -> list[dict]:
    """Rows of a ``per_class.csv`` with numbers parsed (empty cells -> None)."""
    out = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rec: dict[str, Any] = {}
            for k, v in row.items():
                if k in ("name", "group"):
                    rec[k] = v
                elif v in ("", None):
                    rec[k] = None
                else:
                    try:
                        rec[k] = int(v) if k in ("class", "train_count") else float(v)
                    except ValueError:
                        rec[k] = v
            out.append(rec)
    return out


def write_per_class(path: str | Path, rows: Sequence[dict]) -> Path:
    """Write per-class rows (the trial's schema) as ``per_class.csv``; e.g. a scheduler-stopped
    trial's last validation, with ``test_acc`` left empty."""
    path = Path(path)
    if path.is_dir():
        path = path / PER_CLASS_FILE
    fields: list[str] = []
    for r in rows:
        fields.extend(k for k in r if k not in fields)
    with open_atomic(path, newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return path
