"""Sensitivity heatmaps over two parameters: grid -> PNG (matplotlib Agg), rich table, CSV.

An axis is ``PARAM=SPEC`` (the grammar, plain Python: :mod:`ltsearch.reports.heatmap_spec`,
whose ``parse_axis`` / ``parse_spec`` are importable from here too). Cell values come from MLflow trial runs (best epoch of the metric, mean over
duplicates), so the same drawing serves a fresh grid search and ``--from-search``.

CSV (one per panel): first row ``<y> \\ <x>, x1, x2, ...``; then one row per y value
(``y, v11, v12, ...``), values with 4 decimals, empty cells blank.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table
from rich.text import Text

from ltsearch.errors import LTSearchError
from ltsearch.reports.fmt import DASH, fmt_value, higher_is_better, objective, short_key
from ltsearch.reports.heatmap_spec import (  # noqa: F401  (parse_axis, parse_spec: re-exported)
    FIGURE_FORMATS,
    Axis,
    index_of,
    looks_log,
    parse_axis,
    parse_spec,
)
from ltsearch.reports.leaderboard import budget_of, trial_number
from ltsearch.reports.output import atomic_write
from ltsearch.tracking import TAG_STATUS, reader

GROUP_PANELS = ("many", "medium", "few")


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
    axis.log = looks_log(distinct) if numeric else False


def full_budget_runs(runs: list[dict]) -> list[dict]:
    """The completed trials of the largest budget (no scheduler-stopped prefix, no lower rung), so
    every cell compares configs trained to the end of the same schedule."""
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
    first: np.ndarray | None = None  # per cell, the rank of its earliest trial (t000 first): breaks ties

    @property
    def values(self) -> np.ndarray:
        return self.panels[self.metric]

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    def best_cell(self, panel: str | None = None) -> tuple[int, int] | None:
        """(row i of y, column j of x) of the best value (max, or min for a loss); on a tie the cell
        of the earliest trial, as a search's summary and leaderboard break ties."""
        arr = self.panels[panel or self.metric]
        if np.all(np.isnan(arr)):
            return None
        top = np.nanmax(arr) if self.maximize else np.nanmin(arr)
        tied = [(int(i), int(j)) for i, j in np.argwhere(arr == top)]  # row-major order
        return min(tied, key=lambda c: self.first[c]) if self.first is not None else tied[0]


# ---- specs -------------------------------------------------------------------------
# ---- the grid from runs ----------------------------------------------------------------
def _sorted_values(vals: list) -> list:
    uniq: list = []
    for v in vals:
        if index_of(uniq, v) is None:
            uniq.append(v)
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def grid_from_runs(runs: list[dict], x: Axis, y: Axis, metric: str = "val/acc", groups: bool = False,
                   tracking_uri: str | None = None, histories: dict | None = None) -> Grid:
    """Pivot trial runs (reader dicts) into the grid (mean over runs that share a cell)."""
    pts = []
    for run in sorted(runs, key=_trial_order):
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
    first = np.full(counts.shape, len(pts))
    run_ids: dict[tuple[int, int], list[str]] = {}
    for rank, (xv, yv, run) in enumerate(pts):
        j, i = x.index(xv), y.index(yv)
        if i is None or j is None:
            continue
        hist = histories[metric].get(run["run_id"], [])
        best, step = objective(run, metric, hist)
        if best is None:
            continue
        counts[i, j] += 1
        first[i, j] = min(first[i, j], rank)
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
    if not counts.any():
        raise LTSearchError(f"none of the {len(pts)} trials falls in a cell of {x.param}={','.join(x.labels())} "
                            f"x {y.param}={','.join(y.labels())} (trials: {_span(x, pts, 0)}, {_span(y, pts, 1)}); "
                            f"give values in that range, or PARAM alone to bin the trials' own values")
    with np.errstate(invalid="ignore", divide="ignore"):
        # a shot group with no classes (CIFAR-10-LT has no few-shot class) gets no panel
        panels = {k: np.where(ns[k] > 0, sums[k] / np.maximum(ns[k], 1), np.nan) for k in panel_keys
                  if k == metric or ns[k].any()}
    return Grid(x=x, y=y, metric=metric, panels=panels, counts=counts, run_ids=run_ids,
                maximize=higher_is_better(metric), first=first)


def _trial_order(run: dict) -> tuple[bool, int]:
    """t000, t001-r1, ... first (the search's order), runs without a trial number after."""
    n = trial_number({"trial": run.get("run_name")})
    return n < 0, n


def _span(axis: Axis, pts: list, k: int) -> str:
    vals = [fmt_value(v) for v in _sorted_values([p[k] for p in pts])]
    return f"{axis.param} {vals[0]}" + (f"..{vals[-1]}" if len(vals) > 1 else "")


def searched_log(experiment: str, search: str, key: str, tracking_uri: str | None = None) -> bool:
    """Whether the search sampled ``key`` on a log scale: its parent run's ``space.<knob>`` param, the
    knob's ``Dim.describe()``, read back by ``Dim.from_description``."""
    from ltsearch.search.space import Dim

    parent = reader.parent_run(experiment, search, tracking_uri)
    text = (parent or {}).get("params", {}).get(f"space.{short_key(key)}")
    dim = Dim.from_description(short_key(key), text) if text is not None else None
    return dim is not None and dim.log


# ---- CSV -----------------------------------------------------------------------------
def write_csv(grid: Grid, path: str | Path, panel: str | None = None) -> Path:
    arr = grid.panels[panel or grid.metric]
    path = Path(path)

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
        if best is not None:
            i, j = best
            ax.add_patch(Rectangle((j - 0.47, i - 0.47), 0.94, 0.94, fill=False, edgecolor="red", linewidth=2.5))
        if not shared_scale or n == len(panels) - 1:
            fig.colorbar(im, ax=ax, shrink=0.85, label=grid.metric if shared_scale else key)
    if title:
        fit_suptitle(fig, title)
    if caption:
        fig.text(0.01, 0.01, caption, fontsize=8, color="#444")
    fig.tight_layout(rect=(0, 0.05 if caption else 0, 1, 1))
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if fmt not in FIGURE_FORMATS:
        raise LTSearchError(f"--output {path}: a figure is written as {', '.join(FIGURE_FORMATS)}; "
                            f"end the name with one of these")

    with atomic_write(path, binary=True, mkdir=True) as f:
        fig.savefig(f, dpi=DPI, format=fmt)
    plt.close(fig)
    return shapes


def fit_suptitle(fig, title: str):
    """The figure's title, wrapped until its rendered width fits the figure (a search's name is long):
    never clipped at the sides, whatever the characters or the figure's width."""
    import textwrap

    text = fig.suptitle(title)
    renderer = fig.canvas.get_renderer()
    width = len(title)
    while width > 10 and text.get_window_extent(renderer).width > 0.96 * fig.bbox.width:
        width = max(10, int(width * 0.85))
        text.set_text(textwrap.fill(title, width=width, break_long_words=True))
    return text


# ---- terminal -----------------------------------------------------------------------
def _rgb(value: float, lo: float, hi: float) -> tuple[int, int, int]:
    import matplotlib

    t = 0.5 if hi <= lo else (value - lo) / (hi - lo)
    r, g, b, _ = matplotlib.colormaps["viridis"](float(t))
    return int(r * 255), int(g * 255), int(b * 255)


def rich_heatmap(grid: Grid, panel: str | None = None):
    """A rich table whose cells carry the colour of their value (viridis); best cell starred; a binned
    grid's cells also give their number of trials (``n=``), as the PNG does."""
    key = panel or grid.metric
    binned = bool(grid.x.edges or grid.y.edges) and grid.counts is not None
    arr = grid.panels[key]
    finite = arr[np.isfinite(arr)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    best = grid.best_cell(key)
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
            n = f" n={grid.counts[i, j]}" if binned else ""
            cells.append(Text(f"{star}{v:6.2f}{n} ", style=f"{fg} on rgb({r},{g},{b})" + (" bold" if star == "★" else "")))
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
