"""Paper presets, the one home of the papers' recipes: ``<method>/<dataset>.yaml``.

A preset file holds

* ``config``: the trial config of the paper's recipe (every section),
* ``sources``: for each dotted config key, the table / section (or the authors' code) it comes
  from, and which variant the other source uses where paper and code differ,
* ``reported``: the paper's top-1 rows for that dataset (leaderboard reference rows),
* optionally ``inherit: METHOD/DATASET``: take that preset's recipe (config and sources, all but
  ``method``), e.g. the baselines run under the KPS paper's recipe of their dataset.

Search spaces, ``Method.defaults`` and ``ltsearch train --preset`` read the resolved preset;
no paper value is typed anywhere else.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from ltsearch.checks import shown
from ltsearch.errors import LTSearchError
from ltsearch.yamlio import safe_load

PRESET_DIR = Path(__file__).parent
KEYS = ("config", "sources", "reported", "inherit")


def list_presets() -> list[str]:
    """``["kps/cifar10-lt", ...]``."""
    return sorted(f"{p.parent.name}/{p.stem}" for p in PRESET_DIR.glob("*/*.yaml"))


def _merge(a: dict, b: dict) -> dict:
    out = copy.deepcopy(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


@functools.lru_cache(maxsize=None)
def _load(name: str) -> dict:
    path = PRESET_DIR / f"{name}.yaml"
    if "/" not in name or ".." in name or not path.is_file():
        methods = sorted({n.split("/")[0] for n in list_presets()})
        raise LTSearchError(f"preset {shown(name)}: no such preset; use METHOD/DATASET with a method of "
                            f"{', '.join(methods)} (ltsearch presets list shows all)")
    data = safe_load(path.read_text()) or {}
    bad = sorted(set(data) - set(KEYS))
    if bad:
        raise LTSearchError(f"{path}: unknown key '{bad[0]}'; allowed: {', '.join(KEYS)}")
    config, sources = data.get("config") or {}, data.get("sources") or {}
    if data.get("inherit"):
        parent = _load(data["inherit"])
        recipe = {k: v for k, v in parent["config"].items() if k != "method"}
        config = _merge(recipe, config)
        sources = {**{k: v for k, v in parent["sources"].items() if not k.startswith("method.")}, **sources}
    return {"config": config, "sources": sources, "reported": list(data.get("reported") or []),
            "inherit": data.get("inherit")}


def load_preset(name: str) -> dict:
    """The preset ``METHOD/DATASET`` as ``{"config", "sources", "reported", "inherit"}`` (a copy)."""
    return copy.deepcopy(_load(name))


def preset_name(method: str, dataset: str) -> str | None:
    """``"kps/imagenet-lt"`` when that preset exists, else None."""
    name = f"{method}/{dataset}"
    return name if name in list_presets() else None


def paper_config(method: str, dataset: str) -> dict:
    """The paper's trial config for ``method`` on ``dataset`` ({} when no preset exists)."""
    name = preset_name(method, dataset)
    return load_preset(name)["config"] if name else {}


def paper_params(method: str, dataset: str) -> dict:
    """The paper's method parameters for ``method`` on ``dataset`` ({} when no preset exists)."""
    return dict((paper_config(method, dataset).get("method") or {}).get("params") or {})


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
