"""``ltsearch inspect kps``: the class-wise lists a loss derives from the counts, before training."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ltsearch.cli.common import (
    DataRootOpt,
    DatasetOpt,
    JsonOpt,
    RatioOpt,
    check_dataset,
    console,
    default_ratio,
    print_json,
    user_errors,
)
from ltsearch.config import DEFAULT_DATASET
from ltsearch.errors import LTSearchError


@user_errors
def inspect(
    method: Annotated[str, typer.Argument(help="method to inspect (kps)", show_default=False)],
    dataset: DatasetOpt = DEFAULT_DATASET,
    imbalance_ratio: RatioOpt = None,
    data_root: DataRootOpt = None,
    m_max: Annotated[Optional[float], typer.Option("--m-max", help="largest margin (eq. 29)")] = None,
    s_base: Annotated[Optional[float], typer.Option("--s-base", help="base scale (eq. 30)")] = None,
    n_base: Annotated[Optional[float], typer.Option("--n-base", help="radius base (eq. 26)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print KPS's r, m, m' and s per class (eqs 26-30) for a dataset's training counts."""
    from ltsearch.data import DatasetSpec, describe_dataset
    from ltsearch.methods import get_method

    if method != "kps":
        raise LTSearchError(f"inspect {method!r}: only 'kps' derives class-wise lists; use: ltsearch inspect kps")
    check_dataset(dataset)
    given = {k: v for k, v in {"m_max": m_max, "s_base": s_base, "n_base": n_base}.items() if v is not None}
    params = get_method("kps").resolve(given, dataset=dataset, where="inspect")
    ratio = default_ratio(dataset) if imbalance_ratio is None else imbalance_ratio
    info = describe_dataset(DatasetSpec(name=dataset, root=None if data_root is None else str(data_root),
                                        imbalance_ratio=ratio))
    from ltsearch.losses import kps_lists

    lists = kps_lists(info["train_counts"], params["m_max"], params["s_base"], params["n_base"])
    out = {k: [round(float(v), 6) for v in lists[k]] for k in ("r", "m", "m_prime", "s")}
    if as_json:
        print_json(out)
        return
    from rich.table import Table

    table = Table(title=f"KPS lists on {dataset}{'' if ratio is None else f' IR {ratio:g}'} (m_max={params['m_max']}, s_base={params['s_base']}, "
                        f"n_base={params['n_base']})")
    for col in ("class", "n", "r", "m", "m'", "s"):
        table.add_column(col, justify="right")
    for i, n in enumerate(info["train_counts"]):
        table.add_row(str(i), str(n), *(f"{out[k][i]:.4f}" for k in ("r", "m", "m_prime", "s")))
    console.print(table)
