"""Sensitivity heatmaps over two parameters: grid -> PNG (matplotlib Agg), rich table, CSV.

An axis is ``PARAM=SPEC``: ``PARAM`` a method knob (``m_max``, ``stage2_lr``) or a dotted
config key (``optim.lr``); ``SPEC`` either ``low:high:points[:log]`` or explicit values
``a,b,c``. Cell values come from MLflow trial runs (best epoch of the metric, mean over
duplicates), so the same drawing serves a fresh grid search and ``--from-search``.

CSV (one per panel): first row ``<y> \\ <x>, x1, x2, ...``; then one row per y value
(``y, v11, v12, ...``), values with 4 decimals, empty cells blank.
"""

from __future__ import annotations

import bisect
import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ltsearch.checks import shown
from ltsearch.errors import LTSearchError
from ltsearch.reports.fmt import (
    DASH,
    fmt_value,
    higher_is_better,
    objective,
    same,
    short_key,
)

GROUP_PANELS = ("many", "medium", "few")


@dataclass
class Axis:
    param: str  # as the user wrote it (m_max, optim.lr)
    key: str  # flattened config key (method.params.m_max, optim.lr)
    values: list  # grid values, in order (may be None: taken from the runs)
    log: bool = False
    edges: list | None = None  # a binned continuous axis (a non-grid search): bin i is [edges[i], edges[i+1]]

    def labels(self) -> list[str]:
        if self.edges is not None:
            return [f"{fmt_value(a)}-{fmt_value(b)}" for a, b in zip(self.edges[:-1], self.edges[1:])]
        return [fmt_value(v) for v in self.values]

    def index(self, v: Any) -> int | None:
        if self.edges is not None:
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return None
            i = bisect.bisect_right(self.edges, v) - 1
            return min(max(i, 0), len(self.edges) - 2)
        return _index(self.values, v)


MAX_CELLS_PER_AXIS = 8  # more distinct values than this on a numeric axis: a continuous axis, binned


def _set_axis_from(axis: Axis, vals: list, bins: int = 5) -> None:
    """Axis values from the runs: the distinct values, or for a continuous numeric axis (a random /
    TPE search) ``bins`` equal-width bins (log-width when the values span a decade or more)."""
    distinct = _sorted_values(vals)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in distinct)
    if numeric and len(distinct) > MAX_CELLS_PER_AXIS:
        lo, hi = float(min(distinct)), float(max(distinct))
        axis.log = lo > 0 and hi / lo >= 10
        edges = np.geomspace(lo, hi, bins + 1) if axis.log else np.linspace(lo, hi, bins + 1)
        axis.edges = [float(f"{e:.4g}") for e in edges]
        axis.edges[0], axis.edges[-1] = lo, hi
        axis.values = [(a + b) / 2 for a, b in zip(axis.edges[:-1], axis.edges[1:])]
        return
    axis.values = distinct
    axis.log = _looks_log(distinct) if numeric else False


def full_budget_runs(runs: list[dict]) -> list[dict]:
    """The completed trials of the largest budget (no scheduler-stopped prefix, no lower rung), so
    every cell compares configs trained to the end of the same schedule."""
    from ltsearch.reports.leaderboard import budget_of
    from ltsearch.tracking import TAG_STATUS

    done = [r for r in runs if r["tags"].get(TAG_STATUS, "completed") == "completed"]
    budgets = [budget_of(r)["epochs"] or 0 for r in done]
    top = max(budgets, default=0)
    return [r for r, b in zip(done, budgets) if b == top]


@dataclass
class Grid:
    x: Axis
    y: Axis
    metric: str
    panels: dict[str, np.ndarray] = field(default_factory=dict)  # metric/group -> [len(y), len(x)]
    counts: np.ndarray | None = None  # runs per cell
    run_ids: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    maximize: bool = True

    @property
    def values(self) -> np.ndarray:
        return self.panels[self.metric]

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def best_cell(self, panel: str | None = None) -> tuple[int, int] | None:
        """(row i of y, column j of x) of the best value (max, or min for a loss)."""
        arr = self.panels[panel or self.metric]
        if np.all(np.isnan(arr)):
            return None
        flat = np.nanargmax(arr) if self.maximize else np.nanargmin(arr)
        return tuple(int(i) for i in np.unravel_index(flat, arr.shape))


# ---- specs -------------------------------------------------------------------------
def _scalar(text: str) -> Any:
    from ltsearch.tracking.reader import parse_param

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
        arr = np.geomspace(low, high, points) if log else np.linspace(low, high, points)
        return [float(f"{v:.6g}") for v in arr], log
    values = [_scalar(t) for t in spec.split(",") if t.strip() != ""]
    if not values:
        raise LTSearchError(f"{where} {shown(spec)}: no values; use a,b,c")
    if len(values) > MAX_AXIS_POINTS:
        raise LTSearchError(f"{where}: {len(values)} values; a heatmap axis takes at most {MAX_AXIS_POINTS}")
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return values, len(nums) == len(values) and len(values) >= 3 and _looks_log(nums)


def _looks_log(values: list[float]) -> bool:
    """Positive values evenly spaced in log (and spanning >= 1 decade) but not linearly."""
    v = sorted(set(float(x) for x in values))
    if len(v) < 3 or v[0] <= 0 or v[-1] / v[0] < 10:
        return False
    lg = np.diff(np.log(v))
    lin = np.diff(v)
    return bool(np.allclose(lg, lg.mean(), rtol=0.2) and not np.allclose(lin, lin.mean(), rtol=0.2))


def resolve_key(method: str, param: str, where: str = "--x") -> str:
    """``m_max`` -> ``method.params.m_max`` for a knob of ``method``; dotted keys pass through."""
    from ltsearch.methods import METHODS

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


# ---- the grid from runs ----------------------------------------------------------------
def _index(values: list, v: Any) -> int | None:
    for i, u in enumerate(values):
        if same(u, v):
            return i
    return None


def _sorted_values(vals: list) -> list:
    uniq: list = []
    for v in vals:
        if _index(uniq, v) is None:
            uniq.append(v)
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def grid_from_runs(runs: list[dict], x: Axis, y: Axis, metric: str = "val/acc", groups: bool = False,
                   tracking_uri: str | None = None, histories: dict | None = None) -> Grid:
    """Pivot trial runs (reader dicts) into the grid (mean over runs that share a cell)."""
    from ltsearch.tracking import reader

    pts = []
    for run in runs:
        if x.key not in run["params"] or y.key not in run["params"]:
            continue
        pts.append((reader.parse_param(run["params"][x.key]), reader.parse_param(run["params"][y.key]), run))
    if not pts:
        raise LTSearchError(f"no finished trial varies {x.key} and {y.key}; check the parameter names "
                            f"(`ltsearch leaderboard` lists the runs)")
    if x.values is None:
        _set_axis_from(x, [p[0] for p in pts])
    if y.values is None:
        _set_axis_from(y, [p[1] for p in pts])
    split = metric.split("/")[0] if "/" in metric else "val"
    panel_keys = [metric] + ([f"{split}/{g}" for g in GROUP_PANELS] if groups else [])
    if histories is None:
        ids = [p[2]["run_id"] for p in pts]
        histories = {k: reader.metric_histories(ids, k, tracking_uri) for k in panel_keys}
    sums = {k: np.zeros((len(y.values), len(x.values))) for k in panel_keys}
    ns = {k: np.zeros((len(y.values), len(x.values))) for k in panel_keys}
    counts = np.zeros((len(y.values), len(x.values)), dtype=int)
    run_ids: dict[tuple[int, int], list[str]] = {}
    for xv, yv, run in pts:
        j, i = x.index(xv), y.index(yv)
        if i is None or j is None:
            continue
        hist = histories[metric].get(run["run_id"], [])
        best, step = objective(run, metric, hist)
        if best is None:
            continue
        counts[i, j] += 1
        run_ids.setdefault((i, j), []).append(run["run_id"])
        sums[metric][i, j] += best
        ns[metric][i, j] += 1
        for k in panel_keys[1:]:
            at_best = dict(histories[k].get(run["run_id"], []))
            v = at_best.get(step) if step is not None else None
            if v is None:
                v = run["metrics"].get(k)
            if v is not None and math.isfinite(v):
                sums[k][i, j] += v
                ns[k][i, j] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        # a shot group with no classes (CIFAR-10-LT has no few-shot class) gets no panel
        panels = {k: np.where(ns[k] > 0, sums[k] / np.maximum(ns[k], 1), np.nan) for k in panel_keys
                  if k == metric or ns[k].any()}
    return Grid(x=x, y=y, metric=metric, panels=panels, counts=counts, run_ids=run_ids,
                maximize=higher_is_better(metric))


# ---- CSV -----------------------------------------------------------------------------
def write_csv(grid: Grid, path: str | Path, panel: str | None = None) -> Path:
    arr = grid.panels[panel or grid.metric]
    path = Path(path)
    from ltsearch.reports.output import atomic_write

    with atomic_write(path, mkdir=True) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([f"{grid.y.key} \\ {grid.x.key}"] + grid.x.labels())
        for i, yl in enumerate(grid.y.labels()):
            w.writerow([yl] + ["" if np.isnan(v) else f"{v:.4f}" for v in arr[i]])
    return path


def read_csv(path: str | Path) -> tuple[list[str], list[str], np.ndarray]:
    """(x labels, y labels, values [len(y), len(x)] with NaN for empty cells)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    xs = rows[0][1:]
    ys = [r[0] for r in rows[1:]]
    arr = np.array([[float(c) if c != "" else np.nan for c in r[1:]] for r in rows[1:]], dtype=float)
    return xs, ys, arr.reshape(len(ys), len(xs))


def csv_paths(png: str | Path, grid: Grid) -> dict[str, Path]:
    png = Path(png)
    out = {grid.metric: png.with_suffix(".csv")}
    for k in grid.panels:
        if k != grid.metric:
            out[k] = png.with_name(f"{png.stem}-{k.split('/')[-1]}.csv")
    return out


# ---- PNG -----------------------------------------------------------------------------
FIGURE_FORMATS = ("png", "pdf", "svg")
DPI = 200


def draw_png(grid: Grid, path: str | Path, title: str | None = None, caption: str | None = None,
             shared_scale: bool = True) -> dict[str, tuple[int, int]]:
    """Annotated heatmap panels (metric, then many / medium / few when present) side by side,
    written as PNG (200 dpi), PDF or SVG after ``path``'s suffix.

    Returns ``{panel: drawn array shape}``. Cells are the grid points (equally spaced, so a
    log-spaced grid is drawn on log axes) or, for a non-grid search, bins of its values with the
    number of trials in each; the best cell is outlined (its value stays readable); the group
    panels share one colour scale (``shared_scale``) so they can be compared.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    panels = list(grid.panels)
    ny, nx = grid.shape
    w = max(4.5, 0.9 * nx + 2.5)
    h = max(3.5, 0.55 * ny + 2.0)
    fig, axes = plt.subplots(1, len(panels), figsize=(w * len(panels), h + (0.4 if caption else 0)), squeeze=False)
    shapes = {}
    binned = grid.x.edges is not None or grid.y.edges is not None
    everything = np.concatenate([grid.panels[k][np.isfinite(grid.panels[k])] for k in panels])
    vmin, vmax = (float(everything.min()), float(everything.max())) if shared_scale and everything.size else (None, None)
    for n, (ax, key) in enumerate(zip(axes[0], panels)):
        arr = grid.panels[key]
        masked = np.ma.masked_invalid(arr)
        cmap = matplotlib.colormaps["viridis"].with_extremes(bad="#dddddd")
        im = ax.imshow(masked, origin="lower", cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
        shapes[key] = tuple(im.get_array().shape)
        ax.set_xticks(range(nx), grid.x.labels(), rotation=45 if nx > 5 or grid.x.edges else 0,
                      ha="right" if nx > 5 or grid.x.edges else "center")
        ax.set_yticks(range(ny), grid.y.labels())
        ax.set_xlabel(grid.x.param + (" (log scale)" if grid.x.log else ""))
        ax.set_ylabel(grid.y.param + (" (log scale)" if grid.y.log else ""))
        ax.set_title(key)
        finite = arr[np.isfinite(arr)]
        lo, hi = (vmin, vmax) if vmin is not None else ((finite.min(), finite.max()) if finite.size else (0, 0))
        mid = (lo + hi) / 2
        for i in range(ny):
            for j in range(nx):
                v = arr[i, j]
                text = DASH if np.isnan(v) else f"{v:.1f}"
                if binned and grid.counts is not None and grid.counts[i, j]:
                    text += f"\nn={grid.counts[i, j]}"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="black" if (np.isnan(v) or v > mid) else "white")
        best = grid.best_cell(key)
        if best is not None and not (finite.size > 1 and finite.min() == finite.max()):  # a flat panel: no best
            i, j = best
            ax.add_patch(Rectangle((j - 0.47, i - 0.47), 0.94, 0.94, fill=False, edgecolor="red", linewidth=2.5))
        if not shared_scale or n == len(panels) - 1:
            fig.colorbar(im, ax=ax, shrink=0.85, label=grid.metric if shared_scale else key)
    if title:
        fig.suptitle(title)
    if caption:
        fig.text(0.01, 0.01, caption, fontsize=8, color="#444")
    fig.tight_layout(rect=(0, 0.05 if caption else 0, 1, 1))
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt not in FIGURE_FORMATS:
        raise LTSearchError(f"--output {path}: a figure is written as {', '.join(FIGURE_FORMATS)}; "
                            f"end the name with one of these")
    from ltsearch.reports.output import atomic_write

    with atomic_write(path, binary=True, mkdir=True) as f:
        fig.savefig(f, dpi=DPI, format=fmt)
    plt.close(fig)
    return shapes


# ---- terminal -----------------------------------------------------------------------
def _rgb(value: float, lo: float, hi: float) -> tuple[int, int, int]:
    import matplotlib

    t = 0.5 if hi <= lo else (value - lo) / (hi - lo)
    r, g, b, _ = matplotlib.colormaps["viridis"](float(t))
    return int(r * 255), int(g * 255), int(b * 255)


def rich_heatmap(grid: Grid, panel: str | None = None):
    """A rich table whose cells carry the colour of their value (viridis); best cell starred."""
    from rich.table import Table
    from rich.text import Text

    key = panel or grid.metric
    arr = grid.panels[key]
    finite = arr[np.isfinite(arr)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    best = grid.best_cell(key) if not (finite.size > 1 and finite.min() == finite.max()) else None
    table = Table(title=f"{key}: {grid.y.param} (rows) x {grid.x.param} (columns)", show_lines=False)
    table.add_column(f"{grid.y.param} \\ {grid.x.param}", justify="right", style="bold")
    for lab in grid.x.labels():
        table.add_column(lab, justify="center")
    for i in reversed(range(arr.shape[0])):  # largest y on top, like the PNG
        cells = []
        for j in range(arr.shape[1]):
            v = arr[i, j]
            if np.isnan(v):
                cells.append(Text(" — ", style="on grey23"))
                continue
            r, g, b = _rgb(v, lo, hi)
            fg = "black" if (0.299 * r + 0.587 * g + 0.114 * b) > 140 else "white"
            star = "★" if best == (i, j) else " "
            cells.append(Text(f"{star}{v:6.2f} ", style=f"{fg} on rgb({r},{g},{b})" + (" bold" if star == "★" else "")))
        table.add_row(grid.y.labels()[i], *cells)
    return table


# ---- running a grid through the search engine ------------------------------------------
def _spec_value(v: Any) -> str:
    if isinstance(v, float):
        return np.format_float_positional(v, trim="-")
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def run_grid_search(method: str, dataset: str, imbalance_ratio: float | None, x: Axis, y: Axis,
                    metric: str = "val/acc", epochs: int | None = None, overrides: list[str] | None = None,
                    name: str | None = None, tracking_uri: str | None = None, **request: Any) -> tuple[str, str]:
    """Run the x-by-y grid through the Ray Tune engine (every point to the end: no ASHA);
    returns (search name, experiment). ``request`` passes extra ``SearchRequest`` fields."""
    import time

    from ltsearch.search.engine import SearchRequest, run_search

    xn, yn = short_key(x.key), short_key(y.key)
    params = [f"{n}={','.join(_spec_value(v) for v in a.values)}" for n, a in ((xn, x), (yn, y))]
    name = name or f"heatmap-{method}-{xn}-{yn}-{time.strftime('%Y%m%d-%H%M%S')}".replace("/", "_")
    req = SearchRequest(method=method, dataset=dataset, imbalance_ratio=imbalance_ratio, search="grid",
                        grid_over=[xn, yn], grid_values={xn: list(x.values), yn: list(y.values)},
                        params=params, scheduler="none", metric=metric, epochs=epochs,
                        sets=list(overrides or []), name=name, tracking_uri=tracking_uri,
                        trials=len(x.values) * len(y.values), **request)
    result = run_search(req)
    return result.name, result.experiment
