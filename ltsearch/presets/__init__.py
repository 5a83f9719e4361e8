"""Paper presets: ``<method>/<dataset>.yaml`` with the papers' schedules and reported numbers.

Each preset has a ``config`` (a full trial config) and ``reported`` rows (the papers'
top-1 numbers for that dataset: the method's own and the baselines it compares against),
which the leaderboard shows as reference rows.
"""

from __future__ import annotations

from pathlib import Path

from ltsearch.checks import shown
from ltsearch.errors import LTSearchError
from ltsearch.yamlio import safe_load

PRESET_DIR = Path(__file__).parent


def list_presets() -> list[str]:
    """``["kps/cifar10-lt", ...]``."""
    return sorted(f"{p.parent.name}/{p.stem}" for p in PRESET_DIR.glob("*/*.yaml"))


def load_preset(name: str) -> dict:
    """The preset ``METHOD/DATASET`` as ``{"config": {...}, "reported": [...]}``."""
    path = PRESET_DIR / f"{name}.yaml"
    if "/" not in name or ".." in name or not path.is_file():
        raise LTSearchError(f"--preset {shown(name)}: no such preset; choose one of: {', '.join(list_presets())}")
    data = safe_load(path.read_text())
    data.setdefault("reported", [])
    return data


def reported_rows(dataset: str, imbalance_ratio: float | None = None) -> list[dict]:
    """The papers' reported rows for a dataset (deduplicated across presets)."""
    rows, seen = [], set()
    for name in list_presets():
        preset = load_preset(name)
        if preset["config"]["dataset"]["name"] != dataset:
            continue
        for row in preset["reported"]:
            ir = row.get("imbalance_ratio")
            if imbalance_ratio is not None and ir is not None and float(ir) != float(imbalance_ratio):
                continue
            key = (row["method"], row.get("variant"), ir, row.get("model"), row["acc"])
            if key not in seen:
                seen.add(key)
                rows.append({**row, "dataset": dataset})
    return rows
