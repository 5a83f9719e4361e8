"""Accuracy metrics for long-tailed classification (all in percent, 0..100).

* ``shot_groups``: many (> 100 training images), medium (20..100), few (< 20).
* ``evaluate_predictions``: top-1, per-class accuracy, and each group's mean per-class
  accuracy; a group with no classes (or no evaluated classes) is ``None``, never 0.
* ``logit_diagnostics``: LORT's Logits Magnitude and Regularized Standard Deviation
  (papers/lort-logits-retargeting.txt, Definitions 1-2, Eqs. 4 and 8).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # numpy is imported where it computes, so counts alone (data, CLI) need none
    import numpy as np

from ltsearch.errors import LTSearchError

GROUPS = ("many", "medium", "few")
MANY_ABOVE = 100  # many: n > 100
FEW_BELOW = 20  # few: n < 20; medium: 20 <= n <= 100


def _np(x) -> np.ndarray:
    import numpy as np

    if hasattr(x, "detach"):  # a torch.Tensor (torch is imported by the trial, never for counts alone)
        return x.detach().cpu().numpy()
    return np.asarray(x)


def shot_groups(train_counts: Sequence[int]) -> dict[str, list[int]]:
    """Class indices per group by *training* count: many > 100, medium 20..100, few < 20.

    >>> shot_groups([101, 100, 20, 19])
    {'many': [0], 'medium': [1, 2], 'few': [3]}
    """
    counts = [int(n) for n in (train_counts.tolist() if hasattr(train_counts, "tolist") else train_counts)]
    return {
        "many": [i for i, n in enumerate(counts) if n > MANY_ABOVE],
        "medium": [i for i, n in enumerate(counts) if FEW_BELOW <= n <= MANY_ABOVE],
        "few": [i for i, n in enumerate(counts) if n < FEW_BELOW],
    }


def confusion_matrix(preds, labels, num_classes: int) -> np.ndarray:
    """``cm[true, pred]`` counts, int64 ``[C, C]``."""
    import numpy as np

    p, y = _np(preds).astype(np.int64).ravel(), _np(labels).astype(np.int64).ravel()
    if p.shape != y.shape:
        raise ValueError(f"preds {p.shape} and labels {y.shape} differ in length")
    for what, v in (("labels", y), ("preds", p)):
        if v.size and (v.min() < 0 or v.max() >= num_classes):
            raise ValueError(f"{what} out of range [0, {num_classes})")
    return np.bincount(y * num_classes + p, minlength=num_classes**2).reshape(num_classes, num_classes)


def evaluate_predictions(
    preds, labels, num_classes: int, train_counts: Sequence[int], confusion: bool = False
) -> dict:
    """Top-1 and per-class / per-group accuracies in percent.

    Returns ``{"acc", "per_class", "many", "medium", "few"}`` (+ ``"confusion"``, a
    ``[C, C]`` nested list ``[true][pred]``, when ``confusion=True``). ``per_class[i]`` is
    ``None`` for a class absent from ``labels``; a group's value is the mean of its
    classes' accuracies over the classes present, ``None`` if there are none.
    ``acc`` is over samples (``None`` for an empty evaluation set).
    """
    import numpy as np

    if len(train_counts) != num_classes:
        raise LTSearchError(f"train_counts has {len(train_counts)} entries for {num_classes} classes")
    cm = confusion_matrix(preds, labels, num_classes)
    support, correct = cm.sum(axis=1), np.diag(cm)
    per_class = [100.0 * float(c) / float(s) if s > 0 else None for c, s in zip(correct, support)]
    total = int(support.sum())
    out: dict = {
        "acc": 100.0 * float(correct.sum()) / total if total else None,
        "per_class": per_class,
    }
    for group, classes in shot_groups(train_counts).items():
        vals = [per_class[i] for i in classes if per_class[i] is not None]
        out[group] = float(np.mean(vals)) if vals else None
    if confusion:
        out["confusion"] = cm.tolist()
    return out


def logit_diagnostics(logits, labels, num_classes: int) -> dict[str, list]:
    """LORT's per-class logit diagnostics (papers/lort-logits-retargeting.txt, Sec. 3.2).

    For class i with logit column z_i over the evaluated samples:

    * ``magnitude`` L_i = E[z_{P,i}] - E[z_{N,i}] (Definition 1, Eq. 4): mean of z_i over
      the samples of class i (positives) minus its mean over all other samples (negatives).
    * ``std`` sigma(z_i): Definition 2 says "given the logits z_i, the standard deviation
      sigma(z_i)" without restricting the samples, so it is taken over *all* evaluated
      samples, as a population std (ddof=0).
    * ``reg_std`` r_i = sigma(z_i) / L_i (Definition 2, Eq. 8).

    Also returned: ``pos_mean``, ``neg_mean``, ``pos_std``, ``neg_std`` (population) per
    class. Entries that cannot be computed (class absent, no negatives, L_i = 0) are None.
    """
    import numpy as np

    z = _np(logits).astype(np.float64)
    y = _np(labels).astype(np.int64).ravel()
    if z.ndim != 2 or z.shape[1] != num_classes or z.shape[0] != y.shape[0]:
        raise ValueError(f"logits {z.shape} must be [N, {num_classes}] with N = len(labels) = {y.shape[0]}")
    out: dict[str, list] = {k: [] for k in ("magnitude", "std", "reg_std", "pos_mean", "neg_mean", "pos_std", "neg_std")}
    for i in range(num_classes):
        col, pos = z[:, i], y == i
        zp, zn = col[pos], col[~pos]
        pm = float(zp.mean()) if zp.size else None
        nm = float(zn.mean()) if zn.size else None
        mag = pm - nm if (pm is not None and nm is not None) else None
        sd = float(col.std()) if col.size else None
        out["magnitude"].append(mag)
        out["std"].append(sd)
        out["reg_std"].append(sd / mag if (mag and sd is not None) else None)
        out["pos_mean"].append(pm)
        out["neg_mean"].append(nm)
        out["pos_std"].append(float(zp.std()) if zp.size else None)
        out["neg_std"].append(float(zn.std()) if zn.size else None)
    return out


def format_group(value: float | None) -> str:
    """``"—"`` for an empty group, else two decimals."""
    return "—" if value is None else f"{value:.2f}"
