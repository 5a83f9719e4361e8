"""PNG figures of one trial and of one search (matplotlib, Agg backend, imported lazily).

* :func:`learning_curves`: per epoch, training loss with the learning rate on a second axis,
  and validation accuracy overall / many / medium / few;
* :func:`per_class_accuracy`: the long-tail figure of the papers (e.g. LDAM-DRW Fig. 3,
  classifier-balancing Fig. 1): classes sorted head to tail by training count, the count
  on top, val / test accuracy per class below, the many / medium / few groups shaded;
* :func:`confusion_matrix`: row-normalised (% of each true class), classes head to tail;
* :func:`importance_bars`: fANOVA importance of the searched parameters, with a warning
  printed on the plot when too few trials finished for it to mean anything.

Each function writes one PNG and returns its path; nothing here imports mlflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

DPI = 150
GROUP_COLOURS = {"many": "#dce9f7", "medium": "#fdf0d5", "few": "#f9dede"}
GROUP_LABELS = {"many": "many (>100)", "medium": "medium (20-100)", "few": "few (<20)"}
SPLIT_COLOURS = {"val": "#1f77b4", "test": "#ff7f0e"}
GROUP_LINES = {"acc": ("overall", "#222222", "-"), "many": ("many", "#1f77b4", "--"),
               "medium": ("medium", "#2ca02c", "--"), "few": ("few", "#d62728", "--")}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def learning_curves(epochs: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """Two panels from ``metrics.jsonl`` records: (a) ``train/loss`` and ``lr`` (right axis,
    log-scaled when it spans more than a decade), (b) ``val/acc|many|medium|few`` in %."""
    plt = _plt()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    xs = [int(r["epoch"]) for r in epochs]
    loss = [(int(r["epoch"]), r["train/loss"]) for r in epochs if r.get("train/loss") is not None]
    if loss:
        ax_loss.plot(*zip(*loss), color="#222222", marker="o", ms=3, label="train loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    ax_loss.grid(alpha=0.3)
    lrs = [(int(r["epoch"]), r["lr"]) for r in epochs if r.get("lr") is not None]
    if lrs:
        ax_lr = ax_loss.twinx()
        ax_lr.step(*zip(*lrs), where="post", color="#9467bd", lw=1.5, label="learning rate")
        values = [v for _, v in lrs if v > 0]
        if values and max(values) / min(values) > 10:
            ax_lr.set_yscale("log")
        ax_lr.set_ylabel("learning rate", color="#9467bd")
        ax_lr.tick_params(axis="y", colors="#9467bd")
        lines = ax_loss.get_lines() + ax_lr.get_lines()
        ax_loss.legend(lines, [ln.get_label() for ln in lines], loc="lower left", fontsize=8)
    ax_loss.set_title("(a) training loss and learning rate")
    for key, (label, colour, style) in GROUP_LINES.items():
        pts = [(int(r["epoch"]), r[f"val/{key}"]) for r in epochs if r.get(f"val/{key}") is not None]
        if pts:
            ax_acc.plot(*zip(*pts), color=colour, ls=style, marker="o", ms=3, lw=2 if key == "acc" else 1.3,
                        label=label)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("validation top-1 accuracy (%)")
    ax_acc.set_ylim(-2, 102)
    ax_acc.grid(alpha=0.3)
    if ax_acc.get_lines():
        ax_acc.legend(loc="lower right", fontsize=8)
    ax_acc.set_title("(b) validation accuracy by shot group")
    if xs:
        for ax in (ax_loss, ax_acc):
            ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
            ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def head_to_tail(rows: Sequence[dict]) -> list[dict]:
    """Per-class rows sorted by training count, largest first (ties: class index)."""
    return sorted(rows, key=lambda r: (-(r.get("train_count") or 0), r.get("class", 0)))


def _group_spans(groups: Sequence[str]) -> list[tuple[str, int, int]]:
    """Contiguous runs ``(group, first, last)`` of a head-to-tail group sequence."""
    spans: list[tuple[str, int, int]] = []
    for i, g in enumerate(groups):
        if spans and spans[-1][0] == g:
            spans[-1] = (g, spans[-1][1], i)
        else:
            spans.append((g, i, i))
    return spans


def _shade_groups(ax, spans, label: bool) -> None:
    for g, a, b in spans:
        ax.axvspan(a - 0.5, b + 0.5, color=GROUP_COLOURS.get(g, "#eeeeee"), zorder=0)
        if a > 0:
            ax.axvline(a - 0.5, color="#555555", ls=":", lw=1, zorder=1)
        if label:
            ax.text((a + b) / 2, 1.02, GROUP_LABELS.get(g, g), transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=9, fontweight="bold")


def _class_ticks(ax, names: Sequence[str]) -> None:
    n = len(names)
    if n <= 30:
        ax.set_xticks(range(n))
        ax.set_xticklabels(names, rotation=90 if max(len(s) for s in names) > 3 else 0, fontsize=8)
    else:
        step = 10 if n <= 200 else 50
        ticks = list(range(0, n, step))
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks], fontsize=8)


def per_class_accuracy(rows: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """The long-tail figure from ``per_class.csv`` rows: training images per class (top, log
    scale when the counts span a decade) and val / test accuracy per class (bottom), classes
    sorted head to tail, shot groups shaded and named. Missing ``test_acc`` (a stopped
    trial) draws val alone."""
    plt = _plt()
    rows = head_to_tail(rows)
    n = len(rows)
    names = [str(r.get("name", r.get("class"))) for r in rows]
    spans = _group_spans([r.get("group", "") for r in rows])
    width = min(max(7.0, 0.28 * n + 3), 16.0)
    fig, (ax_n, ax_a) = plt.subplots(2, 1, figsize=(width, 5.6), sharex=True,
                                     gridspec_kw={"height_ratios": [1, 2.2]})
    counts = [r.get("train_count") or 0 for r in rows]
    ax_n.bar(range(n), counts, color="#7f7f7f", width=0.8, zorder=2)
    positive = [c for c in counts if c > 0]
    if positive and min(positive) * 10 <= max(positive):
        ax_n.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax_n.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax_n.yaxis.set_minor_formatter(NullFormatter())
    if positive:  # headroom for the count labels
        top = max(positive)
        ax_n.set_ylim(top=top * (1.8 if ax_n.get_yscale() == "log" else 1.15))
    if n <= 30:
        for i, c in enumerate(counts):
            ax_n.text(i, c, str(c), ha="center", va="bottom", fontsize=7)
    ax_n.set_ylabel("training\nimages")
    _shade_groups(ax_n, spans, label=True)
    splits = [s for s in ("val", "test") if any(r.get(f"{s}_acc") is not None for r in rows)]
    bw = 0.8 / max(len(splits), 1)
    for k, split in enumerate(splits):
        xs = [i - 0.4 + bw * (k + 0.5) for i in range(n)]
        ys = [r.get(f"{split}_acc") or 0.0 for r in rows]
        ax_a.bar(xs, ys, width=bw, color=SPLIT_COLOURS[split], label=f"{split} accuracy", zorder=2)
    for g, a, b in spans:  # group means as horizontal segments
        for split in splits:
            vals = [rows[i].get(f"{split}_acc") for i in range(a, b + 1) if rows[i].get(f"{split}_acc") is not None]
            if vals:
                m = sum(vals) / len(vals)
                ax_a.hlines(m, a - 0.45, b + 0.45, colors=SPLIT_COLOURS[split], linestyles="--", lw=1.2, zorder=3)
    _shade_groups(ax_a, spans, label=False)
    ax_a.set_ylim(0, 105)
    ax_a.set_ylabel("per-class top-1 accuracy (%)")
    ax_a.set_xlabel("class, sorted by training images (head → tail)" + ("" if n <= 30 else " — rank"))
    ax_a.set_xlim(-0.6, n - 0.4)
    _class_ticks(ax_a, names)
    if splits:
        ax_a.legend(loc="upper right", fontsize=8, title="dashed: group mean", title_fontsize=7)
    if title:
        fig.suptitle(title, fontsize=11, y=1.04)
    fig.tight_layout()
    return _save(fig, path)


def confusion_matrix(names: Sequence[str], matrix: Sequence[Sequence[int]], path: str | Path,
                     train_counts: Sequence[int] | None = None, groups: Sequence[str] | None = None,
                     title: str = "") -> Path:
    """Row-normalised confusion matrix (% of each true class). With ``train_counts`` the
    classes are ordered head to tail and ``groups`` (per class, same order as ``names``)
    draws the shot-group boundaries; values are printed in the cells up to 15 classes."""
    plt = _plt()
    n = len(names)
    order = list(range(n))
    if train_counts is not None:
        order = sorted(order, key=lambda i: (-train_counts[i], i))
    norm = []
    for i in order:
        row = [matrix[i][j] for j in order]
        total = sum(row)
        norm.append([100.0 * v / total if total else 0.0 for v in row])
    size = min(max(5.0, 0.12 * n + 4), 14.0)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=100, interpolation="nearest")
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("% of the true class")
    labels = [str(names[i]) for i in order]
    if n <= 30:
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xticklabels(labels, rotation=90 if max(len(s) for s in labels) > 3 else 0, fontsize=8)
        ax.set_yticklabels(labels, fontsize=8)
    if n <= 15:
        for r in range(n):
            for c in range(n):
                v = norm[r][c]
                if v >= 0.5:
                    ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=7,
                            color="white" if v > 60 else "black")
    if groups is not None:
        spans = _group_spans([groups[i] for i in order])
        for g, a, b in spans:
            if a > 0:
                ax.axhline(a - 0.5, color="#d62728", lw=1)
                ax.axvline(a - 0.5, color="#d62728", lw=1)
            ax.text((a + b) / 2, -0.7, g, ha="center", va="bottom", fontsize=9, color="#d62728",
                    fontweight="bold")
    ax.set_xlabel("predicted class" + (" (head → tail)" if train_counts is not None else ""))
    ax.set_ylabel("true class" + (" (head → tail)" if train_counts is not None else ""))
    ax.set_title(title or "confusion matrix (test)", pad=18)
    fig.tight_layout()
    return _save(fig, path)


def importance_bars(importances: dict[str, float], path: str | Path, title: str = "",
                    warning: str | None = None) -> Path:
    """Horizontal bars of fANOVA importance (largest on top); ``warning`` is printed in red
    across the plot (e.g. too few finished trials)."""
    plt = _plt()
    items = sorted(importances.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.45 * max(len(items), 1)))
    if items:
        keys, vals = zip(*items)
        bars = ax.barh(range(len(items)), vals, color="#4c72b0" if not warning else "#a0a0a0")
        ax.set_yticks(range(len(items)))
        ax.set_yticklabels(keys, fontsize=9)
        for b, v in zip(bars, vals):
            ax.text(b.get_width() + 0.01, b.get_y() + b.get_height() / 2, f"{v:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("fANOVA importance (share of the metric's variance)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or "parameter importance", fontsize=11)
    if warning:
        ax.text(0.98, 0.04, warning, transform=ax.transAxes, ha="right", va="bottom", fontsize=10,
                color="#c00000", fontweight="bold", wrap=True,
                bbox={"facecolor": "white", "edgecolor": "#c00000", "alpha": 0.9})
    fig.tight_layout()
    return _save(fig, path)
