"""The first step of a search: check the request and build the space and the base trial config.

Plain Python (no torch, MLflow, Optuna; Ray only to check a given ``--ray-address`` / RAY_ADDRESS
cluster's resources): ``ltsearch run`` calls :func:`prepare` before the
engine is imported, so every bad flag, space file, ``--param`` / ``--fix`` / ``--set`` value is
answered at once; :func:`ltsearch.search.engine.run_search` calls it again as its first step.
"""

from __future__ import annotations

from typing import Any

from ltsearch.config import apply_overrides, config_from_dict
from ltsearch.errors import LTSearchError
from ltsearch.methods import get_method
from ltsearch.search.request import SearchRequest, check_plan, check_request
from ltsearch.search.space import SearchSpace, load_space

BASE = "search base config"  # how an error in the base config names it (unless a --set is to blame)


def prepare(req: SearchRequest) -> tuple[SearchSpace, dict]:
    """Validate the request and build the space and the base trial config (writes nothing)."""
    check_request(req)
    fixed = list(req.fixed)
    if req.epochs is not None:
        fixed.append(f"optim.epochs={req.epochs}")
    if isinstance(req.space, SearchSpace):
        space = req.space
    else:
        space = load_space(req.method, path=req.space, dataset=req.dataset, params=req.params, fixed=fixed,
                           metric=req.metric)
        pinned = _sets_on_dims(space, req.sets)
        if pinned:  # `--set method.params.bn=frozen` on a knob of the space fixes that knob
            def load(pins: list[str]) -> SearchSpace:
                return load_space(req.method, path=req.space, dataset=req.dataset, params=req.params,
                                  fixed=fixed + pins, metric=req.metric)

            try:
                space = load(list(pinned.values()))
            except LTSearchError as err:
                for item, pin in pinned.items():  # the value came from one --set: name it, not the file
                    try:
                        load([pin])
                    except LTSearchError as one:
                        raise LTSearchError(f"--set {item}: {_without_file(str(one))}") from None
                raise err from None
    _check_params_active(space, req.params)
    if req.mode is not None:
        if req.mode not in ("max", "min"):
            raise LTSearchError(f"--mode {req.mode!r} is invalid; use max or min")
        space.mode = req.mode
    overrides: dict[str, Any] = {"dataset": {"val": req.val}, "seed": req.seed}
    if req.imbalance_ratio is not None:
        overrides["dataset"]["imbalance_ratio"] = float(req.imbalance_ratio)
    if req.data_root is not None:
        overrides["dataset"]["root"] = str(req.data_root)
    if req.epochs is not None:
        overrides["epochs"] = int(req.epochs)
    base = space.base_config(overrides)
    if req.sets:
        base = _with_sets(space, base, req.sets)
    else:
        _check_base(space, base)
    check_plan(req, space, base)  # grid size, grace period, servers reachable, a trial fits the cluster
    if req.search == "grid":
        grid = space.grid(req.grid_points, over=req.grid_over, values=req.grid_values, base_config=base)
        if not grid or grid == [{}]:
            raise LTSearchError(f"{space.source}: nothing to grid over; search at least one parameter "
                                f"(--param NAME=LOW:HIGH)")
    return space, base


def _check_params_active(space: SearchSpace, params: list[str]) -> None:
    """A ``--param`` knob that no trial would use (its condition fails on a fixed knob, e.g. KPS's
    ``ga_start`` with ``--fix ga=off``): the space drops it, so the flag would be ignored."""
    kept = {d.name for d in space.dims}
    for item in params:
        name = item.partition("=")[0].strip()
        if name and name not in kept and f"optim.{name}" not in kept:
            param = get_method(space.method).params.get(name)
            cond = (f"it matters only when {param.active_when[0]} is {' or '.join(map(str, param.active_when[1]))}, "
                    f"which this search fixes otherwise" if param is not None and param.active_when else
                    "its 'when' condition fails on a fixed knob")
            raise LTSearchError(f"--param {item}: {name} has no effect in this search ({cond}); drop it, or "
                                f"search the knob it depends on too")


def _check_base(space: SearchSpace, base: dict) -> None:
    """The first trial's config (the paper point on ``base``) and the method's knobs in it."""
    cfg = config_from_dict(space.config_for(space.paper_point(base), base), where=BASE)
    get_method(space.method).resolve(cfg.method.params, dataset=space.dataset, where=BASE)


def _with_sets(space: SearchSpace, base: dict, sets: list[str]) -> dict:
    """``base`` with the ``--set`` overrides, checked; an invalid value is blamed on the one
    ``--set KEY=VALUE`` that gave it (the base config is named only when no single --set is)."""
    out = apply_overrides(base, sets, flag="--set")
    try:
        _check_base(space, out)
    except LTSearchError as err:
        try:
            _check_base(space, base)
        except LTSearchError:
            raise err from None  # the space's own base config is at fault
        for item in sets:
            try:
                _check_base(space, apply_overrides(base, [item], flag="--set"))
            except LTSearchError as one:
                text = str(one).removeprefix(f"{BASE}: ")
                raise LTSearchError(f"--set {item}: {text}") from None
        raise err from None  # only a combination of --set values fails
    return out


def _sets_on_dims(space: SearchSpace, sets: list[str]) -> dict[str, str]:
    """``--set`` overrides of a knob of the space (matched by its config path: ``schedule.gamma`` is
    the knob ``optim.gamma``) -> their ``--fix`` entries (the user's explicit value wins over the
    space file's fixed value or range)."""
    by_path = {d.path: d.name for d in space.dims}
    pinned = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if sep and key.strip() in by_path:
            pinned[item] = f"{by_path[key.strip()]}={value}"
    return pinned


def _without_file(text: str) -> str:
    """A space-file error without the file's name (for a value that came from the command line)."""
    head, sep, rest = text.partition(": ")
    return rest if sep and (head.endswith(".yaml") or "/" in head) else text


__all__ = ["prepare"]
