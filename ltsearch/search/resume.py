"""A resumed search takes the flags it started with (plain Python: read before anything heavy loads).

A new search saves its search-shaping flags (:data:`SHAPING`: the space, its ranges, the base config,
the data, the sampler, the scheduler and its rungs, the metric, the seed, the study) in its state
(:attr:`~ltsearch.search.state.SearchState.request`). ``ltsearch run METHOD --resume --name NAME``
(or a rerun of an unfinished search under its name) then takes each saved value the command line
does not give (:func:`adopt`); a flag it gives with another value is refused, in one line naming the
flag, the saved value and the fix. The other flags (resources, cluster, stores, display, figures,
retries) may change from one session to the next. A state saved before the flags were recorded
(``request`` None) resumes as before: with the flags given, checked against its ``space.yaml``.
"""

from __future__ import annotations

from dataclasses import MISSING, fields, replace
from pathlib import Path
from typing import Any

from ltsearch import checks
from ltsearch.errors import LTSearchError
from ltsearch.search.request import SearchRequest
from ltsearch.search.space import SearchSpace
from ltsearch.search.state import SearchState
from ltsearch.tracking import experiment_name

# SearchRequest field -> its flag (grid_over / grid_values / mode: set through the API only)
SHAPING: dict[str, str] = {
    "dataset": "--dataset", "imbalance_ratio": "--imbalance-ratio", "data_root": "--data-root", "val": "--val",
    "space": "--space", "params": "--param", "fixed": "--fix", "sets": "--set", "epochs": "--epochs",
    "trials": "--trials", "search": "--search", "grid_points": "--grid-points", "grid_over": "grid_over",
    "grid_values": "grid_values", "scheduler": "--scheduler", "grace_period": "--grace-period",
    "reduction_factor": "--reduction-factor", "rungs": "--rungs", "brackets": "--brackets",
    "metric": "--metric", "mode": "mode", "seed": "--seed", "study": "--study", "warm_start": "--warm-start",
}
REPEATED = ("params", "fixed", "sets", "warm_start")  # a flag given once per value
NUMBERS = ("imbalance_ratio", "reduction_factor")  # compared as floats (100 is 100.0)


def saved_flags(req: SearchRequest, reduction_factor: float | None) -> dict[str, Any]:
    """What a new search saves in its state: each :data:`SHAPING` field of ``req`` as plain JSON.
    ``reduction_factor`` is the search's own (the scheduler's default when none was given); a
    ``--space`` file is saved as its absolute path, a space given as an object (the API) not at all."""
    out: dict[str, Any] = {}
    for key in SHAPING:
        value = getattr(req, key)
        if key == "space":
            if isinstance(value, SearchSpace):
                continue
            value = _space_path(value)
        elif key == "reduction_factor":
            value = reduction_factor
        out[key] = _plain(key, value)
    return out


def given_fields(req: SearchRequest) -> set[str]:
    """The :data:`SHAPING` fields of a request built through the API that differ from their
    defaults: the ones taken as given (the CLI knows which flags were typed: ``ltsearch run``)."""
    defaults = {f.name: f.default_factory() if f.default_factory is not MISSING else f.default
                for f in fields(SearchRequest) if f.name in SHAPING}
    return {k for k in SHAPING if _plain(k, getattr(req, k)) != _plain(k, defaults[k])}


def adopt(req: SearchRequest, state: SearchState | None, given: set[str] | None = None) -> SearchRequest:
    """``req`` with the saved flags of the search ``state`` records in place of those not ``given``
    (None: :func:`given_fields`); a given flag whose value differs from the saved one is refused.
    ``req`` itself (the same object) when there is nothing to take: no state, an old state without
    saved flags, a search of another method (refused later, by name), or every value as saved."""
    if state is None or state.request is None or state.method != req.method:
        return req
    saved = state.request
    if not isinstance(saved, dict):
        raise LTSearchError(f"search '{state.name}': unreadable saved flags in its search state; start a new "
                            f"search with another --name")
    given = given_fields(req) if given is None else given
    changes: dict[str, Any] = {}
    for key, flag in SHAPING.items():
        if key not in saved or (key == "space" and isinstance(req.space, SearchSpace)):
            continue  # a space object (the API) is checked against the search's space.yaml
        before, now = _plain(key, saved[key]), _plain(key, getattr(req, key) if key != "space" else
                                                      _space_path(req.space))
        if before == now:
            continue
        if key in given and not (key == "imbalance_ratio" and before is None and _default_ratio(state, saved, now)):
            where = "--resume: " if req.resume else f"--name {state.name}: "
            raise LTSearchError(f"{where}search '{state.name}' started with {_shown(key, flag, before)}, not "
                                f"{_shown(key, flag, now)}; drop {flag} to resume it as it started, or start a "
                                f"new search with another --name")
        changes[key] = list(before) if isinstance(before, list) else before
    return replace(req, **changes) if changes else req


def saved_state(req: SearchRequest) -> SearchState | None:
    """The state of the search ``req`` names (``--name`` under ``--storage-path``), when it has one
    to resume: an unfinished search, or any with ``--resume``. The name is checked first."""
    if req.name is None:
        return None
    checks.check_storage_path("--storage-path", req.storage_path)
    checks.check_name("--name", req.name, req.storage_path)
    state = SearchState.load(Path(req.storage_path).expanduser() / req.name)
    if state is None or (state.status == "completed" and not req.resume):
        return None  # nothing to resume (a completed search is refused under its name by the engine)
    return state


def latest_search(storage: Path, prefix: str) -> str | None:
    """The most recently changed search folder named ``PREFIX-*`` (``--resume`` without ``--name``)."""
    cands = sorted((p for p in Path(storage).glob(f"{prefix}-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    return cands[-1].name if cands else None


# ---- helpers ------------------------------------------------------------------------------
def _default_ratio(state: SearchState, saved: dict, ratio: float | None) -> bool:
    """``--imbalance-ratio`` given as the dataset's own ratio, which the search took without the flag."""
    return ratio is not None and experiment_name(saved.get("dataset") or "", ratio) == state.experiment


def _space_path(space: Any) -> str | None:
    if space is None or isinstance(space, SearchSpace):
        return None
    return str(Path(space).expanduser().absolute().resolve())


def _plain(key: str, value: Any) -> Any:
    """A field's value as JSON holds it, so a saved value and a given one compare (tuples as lists,
    numbers of :data:`NUMBERS` and rungs as floats)."""
    if value is None:
        return None
    if key in NUMBERS:
        return float(value)
    if key == "rungs":
        return [float(r) for r in value]
    if isinstance(value, (list, tuple)):
        return [_plain("", v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain("", v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value.item() if hasattr(value, "item") else value


def _shown(key: str, flag: str, value: Any) -> str:
    """A value as the flags that give it: ``--epochs 4``, ``--param a=1:2 --param b=x,y``, ``no --rungs``."""
    if value is None or value == []:
        return f"no {flag}"
    if key in REPEATED:
        text = " ".join(f"{flag} {checks.shown_key(v, 60)}" for v in value[:4])
        return text + (f" (and {len(value) - 4} more)" if len(value) > 4 else "")
    if key == "rungs":
        return f"{flag} {','.join(f'{r:g}' for r in value)}"
    if isinstance(value, float):
        return f"{flag} {value:g}"
    return f"{flag} {checks.shown_key(value, 80)}"
