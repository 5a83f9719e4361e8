"""``ltsearch datasets``: the dataset registry, class counts and shot groups."""

from __future__ import annotations

from typing import Annotated

import typer

from ltsearch.cli.common import (
    DataRootOpt,
    JsonOpt,
    RatioOpt,
    ValOpt,
    console,
    default_ratio,
    new_app,
    print_json,
    user_errors,
)

app = new_app(help="List datasets and show their class counts and shot groups.", invoke_without_command=True)


@app.callback()
def list_datasets(ctx: typer.Context) -> None:
    """List the registered datasets."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from ltsearch.data import DATASETS

    table = Table(title="datasets")
    table.add_column("name")
    table.add_column("description")
    for name, builder in DATASETS.items():
        doc = (getattr(builder, "__doc__", "") or "").strip().splitlines()
        table.add_row(name, doc[0] if doc else "")
    console.print(table)


@app.command("show")
@user_errors
def show(
    name: Annotated[str, typer.Argument(help="dataset name, e.g. cifar10-lt", show_default=False)],
    imbalance_ratio: RatioOpt = None,
    data_root: DataRootOpt = None,
    val: ValOpt = "split",
    as_json: JsonOpt = False,
) -> None:
    """Per-class training counts and many / medium / few groups (no images needed for CIFAR)."""
    from ltsearch.data import DatasetSpec, describe_dataset

    ir = default_ratio(name) if imbalance_ratio is None else imbalance_ratio
    info = describe_dataset(DatasetSpec(name=name, root=None if data_root is None else str(data_root),
                                        imbalance_ratio=ir, val=val))
    if as_json:
        print_json(info)
        return
    from rich.table import Table

    groups = info["groups"]
    group_of = {c: g for g, spec in groups.items() for c in spec["classes"]}
    table = Table(title=f"{name}: {info['num_train']} training images, {info['num_classes']} classes")
    names = info.get("class_names") or [str(i) for i in range(info["num_classes"])]
    named = any(str(names[i]) != str(i) for i in range(len(names)))  # digits' classes are named by their index
    for col in ("class", *(["name"] if named else []), "train count", "group"):
        table.add_column(col, justify="left" if col in ("name", "group") else "right")
    for i, n in enumerate(info["train_counts"]):
        table.add_row(str(i), *([str(names[i])] if named else []), str(n), group_of.get(i, ""))
    console.print(table)
    console.print(" / ".join(f"{g} {groups[g]['size']}" for g in ("many", "medium", "few"))
                  + f" classes; validation: {info.get('val_protocol')}")
