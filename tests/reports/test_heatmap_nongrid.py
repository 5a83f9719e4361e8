"""heatmap --from-search on a random search: completed full-budget trials only, continuous axes
binned with counts (never a diagonal of single trials), a shared colour scale, figure formats."""

from __future__ import annotations

import random

import numpy as np
import pytest


def _run(i, lr, m, val, status="completed", epochs=8):
    return {"run_id": f"r{i}", "status": "FINISHED",
            "tags": {"ltsearch.status": status, "ltsearch.val_protocol": "test-half"},
            "params": {"optim.lr": repr(lr), "method.params.m_max": repr(m), "epochs": str(epochs),
                       "model.name": "resnet8"},
            "metrics": {"best/val/acc": val}}


def test_random_search_is_binned_with_counts(tmp_path):
    from ltsearch.reports import heatmap as hm

    rng = random.Random(0)
    runs = [_run(i, 10 ** rng.uniform(-3, -1), rng.uniform(0.1, 0.8), 30 + i % 7) for i in range(24)]
    runs += [_run(90, 0.01, 0.5, 99.0, status="stopped"), _run(91, 0.01, 0.5, 98.0, epochs=2)]
    full = hm.full_budget_runs(runs)
    assert {r["run_id"] for r in full} == {f"r{i}" for i in range(24)}  # no stopped, no smaller budget
    x, y = hm.parse_axis("kps", "optim.lr", "--x"), hm.parse_axis("kps", "m_max", "--y")
    grid = hm.grid_from_runs(full, x, y, "val/acc", histories={"val/acc": {}})
    assert x.edges is not None and y.edges is not None and x.log and not y.log
    assert grid.shape == (5, 5) and int(grid.counts.sum()) == 24
    assert (grid.counts > 1).any()  # cells pool trials: not one trial per distinct value
    assert x.labels()[0].startswith("1") and "e-" in x.labels()[0]  # 1.0xe-3 style ticks
    for fmt in ("png", "pdf", "svg"):
        path = tmp_path / f"h.{fmt}"
        hm.draw_png(grid, path, title="t", caption="digits-lt-ir10; resnet8, 8 epochs, val test-half")
        assert path.stat().st_size > 1000
    with pytest.raises(Exception):
        hm.draw_png(grid, tmp_path / "h.docx")


def test_grid_search_values_stay_cells():
    from ltsearch.reports import heatmap as hm

    runs = [_run(i, lr, m, 10.0 * i) for i, (lr, m) in enumerate((a, b) for a in (0.01, 0.1) for b in (0.2, 0.5))]
    x, y = hm.parse_axis("kps", "optim.lr", "--x"), hm.parse_axis("kps", "m_max", "--y")
    grid = hm.grid_from_runs(runs, x, y, "val/acc", histories={"val/acc": {}})
    assert x.edges is None and grid.shape == (2, 2) and np.all(grid.counts == 1)


@pytest.mark.parametrize("width_in", [3.0, 6.0, 12.0])
@pytest.mark.parametrize("title", ["W" * 160, "search kps-cifar10-lt-ir100-resnet8-20ep-" * 6 + " val/acc: m_max x lr"])
def test_a_long_title_is_wrapped_inside_the_figure(width_in, title):
    """The title is measured as drawn, not guessed from its length: wide characters and narrow figures too."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ltsearch.reports.heatmap import fit_suptitle

    fig = plt.figure(figsize=(width_in, 4))
    try:
        text = fit_suptitle(fig, title)
        box = text.get_window_extent(fig.canvas.get_renderer())
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width
        assert text.get_text().replace("\n", "").replace(" ", "") == title.replace(" ", "")  # nothing lost
        assert "\n" in text.get_text()
        assert "\n" not in fit_suptitle(fig, "kps: lr x wd").get_text()  # a short one stays on one line
    finally:
        plt.close(fig)
