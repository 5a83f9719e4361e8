"""``ltsearch presets``: the papers' recipes, resolved, with the source of every paper value."""

from __future__ import annotations

from typing import Annotated

import typer

from ltsearch.cli.common import console, new_app, print_json, user_errors
from ltsearch.config import TrialConfig, config_from_dict, flatten
from ltsearch.presets import list_presets, load_preset

app = new_app(help="List the paper presets and show the config a search starts from.", no_args_is_help=True)


def resolved(name: str) -> dict:
    """The preset ``name`` as ``{"name", "config" (every section, defaults filled), "sources", ...}``."""
    from ltsearch.methods import get_method
    from ltsearch.search.space import deep_merge

    preset = load_preset(name)
    cfg = config_from_dict(deep_merge(TrialConfig().to_dict(), preset["config"]), where=f"preset {name}")
    cfg.method.params = get_method(cfg.method.name).resolve(cfg.method.params, dataset=cfg.dataset.name,
                                                            where=f"preset {name}")
    return {"name": name, "inherit": preset["inherit"], "config": cfg.to_dict(), "sources": preset["sources"],
            "reported": preset["reported"]}


@app.command("list")
@user_errors
def list_presets_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Every preset METHOD/DATASET, its recipe's origin and the paper rows it carries."""
    rows = []
    for name in list_presets():
        p = load_preset(name)
        rows.append({"name": name, "inherit": p["inherit"], "model": p["config"].get("model", {}).get("name"),
                     "epochs": p["config"].get("epochs"), "reported": len(p["reported"])})
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table(title="paper presets (ltsearch presets show METHOD/DATASET)")
    for col in ("preset", "recipe of", "model", "epochs", "reported rows"):
        table.add_column(col, no_wrap=col == "preset")  # a name to copy
    for r in rows:
        table.add_row(r["name"], r["inherit"] or "", str(r["model"]), str(r["epochs"]), str(r["reported"]))
    console.print(table)


@app.command("show")
@user_errors
def show(
    name: Annotated[str, typer.Argument(help="preset METHOD/DATASET, e.g. kps/imagenet-lt")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The resolved config of a preset (every section) with the source of each paper value."""
    info = resolved(name)
    if as_json:
        print_json(info)
        return
    from rich.table import Table

    origin = f" (recipe of {info['inherit']})" if info["inherit"] else ""
    table = Table(title=f"{name}{origin}: what `ltsearch run` and `train --preset` start from")
    for col in ("key", "value", "source"):
        table.add_column(col)
    for key, value in flatten(info["config"]).items():
        table.add_row(key, repr(value) if isinstance(value, str) else str(value), info["sources"].get(key, ""))
    console.print(table)
    for row in info["reported"]:
        extra = ", ".join(f"{k} {row[k]}" for k in ("imbalance_ratio", "model", "variant") if row.get(k))
        console.print(f"reported: {row['method']} {row['acc']} ({extra}; {row.get('source', '')})", highlight=False)
