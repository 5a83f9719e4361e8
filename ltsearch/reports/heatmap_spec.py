"""What a heatmap is asked for, checked in plain Python (no numpy, no MLflow): its two axes and
the figure format. ``ltsearch heatmap`` parses these before :mod:`ltsearch.reports.heatmap`
(numpy, matplotlib) is imported, so a bad ``--x`` / ``--y`` / ``--format`` is answered at once.

An axis is ``PARAM=SPEC``: ``PARAM`` a method knob (``m_max``, ``stage2_lr``) or a dotted
config key (``optim.lr``); ``SPEC`` either ``low:high:points[:log]`` or explicit values
``a,b,c`` (``PARAM`` alone with ``--from-search``: the values come from the runs; numeric values
with ``--from-search``: the centres of bins that pool the search's trials, :meth:`Axis.bin_around`).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

from ltsearch.checks import shown
from ltsearch.errors import LTSearchError
from ltsearch.methods import METHODS
from ltsearch.reports.fmt import fmt_value, same
from ltsearch.search.space import spread
from ltsearch.tracking.reader import parse_param

FIGURE_FORMATS = ("png", "pdf", "svg")


@dataclass
class Axis:
    param: str  # as the user wrote it (m_max, optim.lr)
    key: str  # flattened config key (method.params.m_max, optim.lr)
    values: list  # grid values, in order (may be None: taken from the runs)
    log: bool = False
    edges: list | None = None  # a binned continuous axis (a non-grid search): bin i is [edges[i], edges[i+1]]
    centred: bool = False  # binned around the given values (labelled by them)

    def labels(self) -> list[str]:
        if self.edges is not None and not self.centred:
            return [f"{fmt_value(a)}-{fmt_value(b)}" for a, b in zip(self.edges[:-1], self.edges[1:])]
        return [fmt_value(v) for v in self.values]

    def index(self, v: Any) -> int | None:
        if self.edges is not None:
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not self.edges[0] <= v <= self.edges[-1]:
                return None
            i = bisect.bisect_right(self.edges, v) - 1
            return min(i, len(self.edges) - 2)
        return index_of(self.values, v)

    def bin_around(self, log: bool = False) -> None:
        """Bins centred on the given numeric values (2 or more): edges halfway between neighbours (in
        log space where ``log`` and all values are > 0), the outer bins as wide as their inner half."""
        vals = self.values or []
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals) or len(set(vals)) < 2:
            return
        self.values = sorted(set(vals))
        log = log and self.values[0] > 0
        t = [math.log(v) if log else float(v) for v in self.values]
        mids = [(a + b) / 2 for a, b in zip(t, t[1:])]
        edges = [2 * t[0] - mids[0], *mids, 2 * t[-1] - mids[-1]]
        self.edges = [math.exp(e) for e in edges] if log else edges
        self.centred = True


def index_of(values: list, v: Any) -> int | None:
    for i, u in enumerate(values):
        if same(u, v):
            return i
    return None


def _scalar(text: str) -> Any:
    return parse_param(text.strip())


MAX_AXIS_POINTS = 100  # per axis: a grid of at most 100 x 100 trained points


def parse_spec(spec: str, where: str = "--x") -> tuple[list, bool]:
    """``"1e-4:1e-1:4:log"`` -> ([1e-4, 1e-3, 1e-2, 1e-1], True); ``"a,b"`` -> (["a", "b"], False)."""
    spec = spec.strip()
    if not spec:
        raise LTSearchError(f"{where}: empty spec; use low:high:points[:log] (e.g. 1e-4:1e-1:7:log) or a,b,c")
    if ":" in spec:
        parts = spec.split(":")
        log = False
        if parts[-1].strip().lower() in ("log", "lin", "linear"):
            log = parts.pop().strip().lower() == "log"
        if len(parts) != 3:
            raise LTSearchError(f"{where} {shown(spec)}: expected low:high:points[:log], e.g. 1e-4:1e-1:7:log")
        try:
            low, high = float(parts[0]), float(parts[1])
            points = int(parts[2])
        except ValueError:
            raise LTSearchError(f"{where} {shown(spec)}: low and high must be numbers and points an integer, "
                                f"e.g. 1e-4:1e-1:7:log") from None
        if not 1 <= points <= MAX_AXIS_POINTS:
            raise LTSearchError(f"{where} {shown(spec)}: points must be in [1, {MAX_AXIS_POINTS}] (a heatmap axis)")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise LTSearchError(f"{where} {shown(spec)}: low and high must be finite numbers")
        if log and (low <= 0 or high <= 0):
            raise LTSearchError(f"{where} {shown(spec)}: a log grid needs low > 0 and high > 0")
        arr = spread(low, high, points, log) if points > 1 else [low]
        return [float(f"{v:.6g}") for v in arr], log
    values = [_scalar(t) for t in spec.split(",") if t.strip() != ""]
    if not values:
        raise LTSearchError(f"{where} {shown(spec)}: no values; use a,b,c")
    if len(values) > MAX_AXIS_POINTS:
        raise LTSearchError(f"{where}: {len(values)} values; a heatmap axis takes at most {MAX_AXIS_POINTS}")
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return values, len(nums) == len(values) and len(values) >= 3 and looks_log(nums)


def looks_log(values: list[float]) -> bool:
    """Positive values evenly spaced in log (and spanning >= 1 decade) but not linearly."""
    v = sorted(set(float(x) for x in values))
    if len(v) < 3 or v[0] <= 0 or v[-1] / v[0] < 10:
        return False
    lg = [math.log(b) - math.log(a) for a, b in zip(v, v[1:])]
    lin = [b - a for a, b in zip(v, v[1:])]
    return _near_mean(lg) and not _near_mean(lin)


def _near_mean(xs: list[float], rtol: float = 0.2, atol: float = 1e-8) -> bool:
    """Every step within ``rtol`` of the mean step (numpy's ``allclose(xs, mean(xs), rtol)``)."""
    m = sum(xs) / len(xs)
    return all(abs(x - m) <= atol + rtol * abs(m) for x in xs)


def resolve_key(method: str, param: str, where: str = "--x") -> str:
    """``m_max`` -> ``method.params.m_max`` for a knob of ``method``; dotted keys pass through."""
    m = METHODS.get(method)
    if param.startswith("method.params."):
        name = param[len("method.params."):]
        if name not in m.params:
            raise LTSearchError(f"{where} {param}: '{name}' is not a parameter of {method}; "
                                f"use one of {', '.join(m.params)} or a config key like optim.lr")
        return param
    if param in m.params:
        return f"method.params.{param}"
    if "." in param or param in ("epochs", "seed", "tta_flip", "eval_every"):
        return param
    raise LTSearchError(f"{where} {param}: not a parameter of {method} ({', '.join(m.params)}) "
                        f"nor a dotted config key like optim.lr")


def parse_axis(method: str, text: str, where: str = "--x") -> Axis:
    """``PARAM=SPEC`` (SPEC optional with --from-search: the values of the runs)."""
    param, sep, spec = text.partition("=")
    param = param.strip()
    if not param:
        raise LTSearchError(f"{where} {shown(text)}: expected PARAM=SPEC, e.g. {where} optim.lr=1e-3:1e-1:5:log")
    key = resolve_key(method, param, where)
    if not sep:
        return Axis(param=param, key=key, values=None)
    values, log = parse_spec(spec, f"{where} {param}=")
    return Axis(param=param, key=key, values=values, log=log)
