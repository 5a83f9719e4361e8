"""Formatting and number helpers shared by every report (leaderboard, heatmap, importance, export).

The search objective lives here too: a trial's score is the ``best/<metric>`` summary metric
(the value of ``--metric`` at the trial's best epoch), the same number the engine hands to
Optuna and the scheduler; reports fall back to the max of the metric's per-epoch history only
for runs logged before that summary existed.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

DASH = "—"  # an empty shot group (no class in it)
NOT_EVALUATED = "n/e"  # a number that was never measured (e.g. a stopped trial's test split)
NOT_REPORTED = "n/r"  # a number a paper does not report (a reference row's shot group)
METHOD_PREFIX = "method.params."


def higher_is_better(metric: str) -> bool:
    return "loss" not in metric and "error" not in metric


def num(v: Any) -> float | None:
    """``v`` as a finite float, else None (None, text, NaN, inf)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def same(a: Any, b: Any) -> bool:
    """Equal values, numbers up to float noise (``0.1`` logged as ``"0.1"`` and read back)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-12)
    return a == b or str(a) == str(b)


def short_key(key: str) -> str:
    """``method.params.m_max`` -> ``m_max``; other flattened keys stay dotted (``optim.lr``)."""
    return key[len(METHOD_PREFIX):] if key.startswith(METHOD_PREFIX) else key


def best_of_history(history: list[tuple[int, float]], metric: str) -> tuple[float | None, int | None]:
    """(best value, its epoch) of a metric history; the first epoch wins ties."""
    best, step = None, None
    sign = 1 if higher_is_better(metric) else -1
    for s, v in history:
        if v is None or not math.isfinite(v):
            continue
        if best is None or sign * v > sign * best:
            best, step = v, s
    return best, step


def objective(run: dict, metric: str, history: list | None = None) -> tuple[float | None, int | None]:
    """(score, best epoch) of a run: its ``best/<metric>`` summary, else the best of its history.

    The epoch is the history's best epoch when the history is given (for the group metrics
    read at that epoch), else None.
    """
    value = num(run["metrics"].get(f"best/{metric}"))
    h_best, h_step = best_of_history(history or [], metric)
    if value is None:
        value = h_best if h_best is not None else num(run["metrics"].get(metric))
    return value, h_step


def fmt_float(v: float | None, digits: int = 2) -> str:
    return DASH if v is None else f"{v:.{digits}f}"


def fmt_number(v: float, sig: int = 3) -> str:
    """A float at ``sig`` significant digits, shortest form: 0.1, 0.125, 1e-3, 2.5e-4, 3e4."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    if 1e-2 <= abs(v) < 1e4:
        return f"{v:.{sig}g}"
    mant, _, exp = f"{v:.{sig - 1}e}".partition("e")
    mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
    return f"{mant}e{int(exp)}"


def fmt_value(v: Any, sig: int = 3) -> str:
    """A param value for a table or an axis tick (floats at ``sig`` significant digits)."""
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "null"
    if isinstance(v, float):
        return fmt_number(v, sig)
    return str(v)


def fmt_knob(v: Any) -> str:
    """A knob's value for a leaderboard: 3 significant digits, 4 where 3 would show a rounder
    number than the value is (``beta=0.9999``, never ``beta=1``)."""
    if not isinstance(v, float) or not math.isfinite(v) or v == 0:
        return fmt_value(v)
    text = fmt_number(v, 3)
    digits = text.split("e")[0].lstrip("-").replace(".", "").strip("0")
    if len(digits) < 3 and not math.isclose(float(text), v, rel_tol=1e-9):
        return fmt_number(v, 4)
    return text


def mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample std over the seeds; the std of one seed is unknown (None: shown as the mean alone)."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else None)


def fmt_pm(mean: float | None, std: float | None) -> str:
    if mean is None:
        return DASH
    return f"{mean:.2f} ± {std:.2f}" if std is not None else f"{mean:.2f}"
