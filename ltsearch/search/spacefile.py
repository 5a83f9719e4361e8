"""The space-file grammar: finding ``search_spaces/<method>.yaml``, parsing it against the method
registry into a :class:`~ltsearch.search.space.SearchSpace`, dataset overlays, ``when``
conditions, the ``--param`` / ``--fix`` grammar and templates.

The base config of a space for a dataset is, in this order: the file's ``base``, the dataset's
recipe (its preset ``presets/<method>/<dataset>.yaml``, else the preset the file names in
``recipe:``, less its dataset section), the matching overlays' ``base``. The paper point (first
trial) is therefore the preset, typed only there.

File format (every section optional except ``method`` and one of ``params`` / ``optim``; an empty
file is refused)::

    method: kps
    metric: val/acc                 # any metric the trial reports; mode max
    recipe: kps/cifar10-lt          # the run recipe of datasets without a preset of their own
    base: {epochs: 200}             # TrialConfig overrides applied to every trial (under the recipe)
    datasets:                       # overlays, keys are registered dataset names or globs ("cifar*")
      places-lt:
        recipe: kps/imagenet-lt     # this dataset's recipe, when it has no preset
        base: {model: {name: resnet50}}
        params: {m_max: {low: 0.2, high: 0.5}}     # narrows the entry below (with type: replaces it)
    params:                         # method knobs (names from METHODS.get(method).params)
      m_max: {type: float, low: 0.1, high: 0.8}
      s_base: {type: float, low: 8, high: 32, log: true}
      ga: {type: categorical, choices: [column, row, off]}
      n_base: {fixed: 50}           # or simply  n_base: 50
      bn: {paper: true}             # fixed at the recipe's (paper's) value
      lambda_milestone: {type: float, low: 0.2, high: 0.8, when: {lambda_schedule: step}}
    optim:                          # shared knobs (SHARED): lr, weight_decay, momentum, batch_size,
      lr: {type: float, low: 0.02, high: 0.2, log: true}   # epochs, warmup_epochs, nesterov,
      weight_decay: {type: float, low: 1e-5, high: 1e-3, log: true}   # schedule, gamma

A dimension is sampled only when its condition holds: ``when:`` in the file, else the
registry's ``Param.active_when``. A condition on a fixed knob is decided once (kept or dropped),
on a knob the space does not list by its base value (kept, or refused: never dropped silently);
on a categorical knob it is decided per trial (define-by-run).

Command-line overrides (replace the whole entry): ``m_max=0.1:0.8``, ``s_base=8:32:log``,
``ga=column,row``, ``optim.lr=0.01:0.1:log``, ``stage2_epochs=1:5:int``; ``--fix n_base=50``.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import graphlib
import math
from pathlib import Path
from typing import Any

import yaml

from ltsearch.checks import shown, shown_key
from ltsearch.config import (
    DEFAULT_DATASET,
    OptimConfig,
    ScheduleConfig,
    TrialConfig,
    config_from_dict,
    load_yaml,
    parse_value,
)
from ltsearch.errors import LTSearchError
from ltsearch.metrics import GROUPS
from ltsearch.methods import METHODS, Param, get_method
from ltsearch.presets import list_presets, load_preset, preset_name
from ltsearch.search.space import (
    DEFAULT_METRIC,
    Dim,
    SearchSpace,
    _same,
    deep_merge,
    get_path,
)
from ltsearch.train.schedules import LR_SCHEDULES

SPACE_DIR = "search_spaces"
TOP_KEYS = ("method", "metric", "mode", "description", "recipe", "base", "datasets", "params", "optim")
OVERLAY_KEYS = ("recipe", "base", "params", "optim", "metric")
DIM_KEYS = ("type", "low", "high", "log", "choices", "fixed", "paper", "when", "default", "help")
KINDS = ("float", "int", "categorical", "fixed")

# Shared (method-independent) knobs: name in the space -> (config path, typed range). The
# defaults are the config dataclasses' (their one home).
_OPTIM, _SCHEDULE, _TRIAL = OptimConfig(), ScheduleConfig(), TrialConfig()
SHARED: dict[str, tuple[str, Param]] = {
    "lr": ("optim.lr", Param("lr", "float", _OPTIM.lr, 0.0, 10.0, low_open=True, help="SGD learning rate")),
    "weight_decay": ("optim.weight_decay",
                     Param("weight_decay", "float", _OPTIM.weight_decay, 0.0, 1.0, help="weight decay")),
    "momentum": ("optim.momentum",
                 Param("momentum", "float", _OPTIM.momentum, 0.0, 1.0, high_open=True, help="SGD momentum")),
    "batch_size": ("optim.batch_size", Param("batch_size", "int", _OPTIM.batch_size, 1, 65536, help="batch size")),
    "nesterov": ("optim.nesterov", Param("nesterov", "bool", _OPTIM.nesterov, help="Nesterov momentum")),
    "epochs": ("epochs", Param("epochs", "int", _TRIAL.epochs, 1, 100_000, help="training epochs (stage 1)")),
    "warmup_epochs": ("schedule.warmup_epochs", Param("warmup_epochs", "float", _SCHEDULE.warmup_epochs, 0.0,
                                                      10_000.0, help="linear warm-up epochs")),
    "schedule": ("schedule.name", Param("schedule", "categorical", _SCHEDULE.name,
                                        choices=tuple(LR_SCHEDULES.names()), help="lr schedule")),
    "gamma": ("schedule.gamma", Param("gamma", "float", _SCHEDULE.gamma, 0.0, 1.0, low_open=True,
                                      help="multistep decay factor at each milestone")),
}


# ---------------------------------------------------------------------------------------
# finding and loading files
# ---------------------------------------------------------------------------------------
def space_dirs() -> list[Path]:
    """Where built-in spaces live: ./search_spaces, then the one beside the package."""
    dirs = [Path.cwd() / SPACE_DIR, Path(__file__).resolve().parents[2] / SPACE_DIR,
            Path(__file__).resolve().parents[1] / "spaces"]
    out = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def builtin_space_path(method: str) -> Path | None:
    for d in space_dirs():
        p = d / f"{method}.yaml"
        if p.is_file():
            return p
    return None


def list_spaces() -> list[tuple[str, Path | None]]:
    """(method, file) for every registered method (file None: generated from the registry)."""
    return [(m, builtin_space_path(m)) for m in METHODS.names()]


def load_space(method: str | None = None, path: str | Path | None = None, dataset: str = DEFAULT_DATASET,
               params: list[str] | None = None, fixed: list[str] | None = None,
               metric: str | None = None) -> SearchSpace:
    """Load, overlay and validate a space. ``path`` None: the method's built-in file (or one
    generated from the registry). ``params`` / ``fixed``: ``--param`` / ``--fix`` overrides."""
    if path is not None:
        raw = load_yaml(path)
        where = str(path)
    else:
        if method is None:
            raise LTSearchError("give a method name or a space file (--space FILE)")
        get_method(method)
        p = builtin_space_path(method)
        if p is not None:
            raw = load_yaml(p)
            where = str(p)
        else:
            raw = generate_space(method)
            where = f"<generated {method} space>"
    return parse_space(raw, where, method=method, dataset=dataset, params=params, fixed=fixed, metric=metric)


def parse_space(raw: dict, where: str, method: str | None = None, dataset: str = DEFAULT_DATASET,
                params: list[str] | None = None, fixed: list[str] | None = None,
                metric: str | None = None) -> SearchSpace:
    if not isinstance(raw, dict):
        raise LTSearchError(f"{where}: top level must be a mapping with method, params, optim")
    if not raw:
        m = method or "kps"
        raise LTSearchError(f"{where}: empty search space; give at least 'method: {m}' and 'params:' "
                            f"(ltsearch spaces new {m} writes a starting file)")
    unknown = sorted(set(raw) - set(TOP_KEYS), key=str)
    if unknown:
        raise LTSearchError(f"{where}: unknown key '{shown_key(unknown[0])}'; allowed: {', '.join(TOP_KEYS)}")
    file_method = raw.get("method")
    if file_method is None and method is None:
        raise LTSearchError(f"{where}: 'method' is missing; add e.g. 'method: kps'")
    if file_method is not None and method is not None and file_method != method:
        raise LTSearchError(f"{where}: 'method' is {shown(file_method)} but the search is for {shown(method)}; "
                            f"use a {method} space file or run {file_method}")
    method = method or file_method
    if not isinstance(method, str) or method not in METHODS:
        raise LTSearchError(f"{where}: method: unknown method {shown(method)}; choose one of: "
                            f"{', '.join(METHODS.names())}")
    registry = get_method(method)

    # sections, with the dataset overlays merged in (in file order)
    cur = {sec: _section(raw, sec, where) for sec in ("params", "optim")}
    top = copy.deepcopy(cur)  # what the dataset sections may only narrow
    base = _section(raw, "base", where)
    recipe, recipe_where = raw.get("recipe"), f"{where}: recipe"
    overlay_base: dict = {}
    datasets = _section(raw, "datasets", where)
    _check_dataset_keys(datasets, where)
    knobs_given = "params" in raw or "optim" in raw
    narrowing: list[tuple[str, str, str, Any]] = []  # (where, section, knob, spec) to check against top
    for pattern, overlay in datasets.items():
        if not fnmatch.fnmatch(dataset, str(pattern)):
            continue
        w = f"{where}: datasets.{pattern}"
        if not isinstance(overlay, dict):
            raise LTSearchError(f"{w} must be a mapping with base / params / optim")
        bad = sorted(set(overlay) - set(OVERLAY_KEYS), key=str)
        if bad:
            raise LTSearchError(f"{w}: unknown key '{shown_key(bad[0])}'; allowed: {', '.join(OVERLAY_KEYS)}")
        if overlay.get("recipe") is not None:
            recipe, recipe_where = overlay["recipe"], f"{w}: recipe"
        overlay_base = deep_merge(overlay_base, _section(overlay, "base", w))
        knobs_given = knobs_given or "params" in overlay or "optim" in overlay
        for sec in cur:
            entries = _section(overlay, sec, w)
            cur[sec] = _overlay_dims(cur[sec], entries)
            narrowing += [(w, sec, n, cur[sec][n]) for n, spec in entries.items() if n in top[sec]
                          and not (isinstance(spec, dict) and ("type" in spec or "paper" in spec))]
        if overlay.get("metric"):
            raw = {**raw, "metric": overlay["metric"]}
    base = deep_merge(deep_merge(base, recipe_base(method, dataset, recipe, recipe_where)), overlay_base)
    params_raw, optim_raw = cur["params"], cur["optim"]

    # command-line overrides replace the entry
    overridden = set()
    for flag, items in (("--param", params or []), ("--fix", fixed or [])):
        for item in items:
            name, spec = _parse_override(item, flag, registry)
            overridden.add(name)
            if name.startswith("optim."):
                optim_raw[name[len("optim."):]] = spec
            else:
                params_raw[name] = spec

    # the base config must be a valid TrialConfig section set
    if "method" in base and (not isinstance(base["method"], dict) or set(base["method"]) - {"params"}
                             or not isinstance(base["method"].get("params") or {}, dict)):
        raise LTSearchError(f"{where}: base.method may only hold 'params' (a mapping); the method is '{method}'")
    probe = deep_merge(TrialConfig().to_dict(), base)
    probe["method"] = {"name": method, "params": dict((probe.get("method") or {}).get("params") or {})}
    config_from_dict(probe, where=f"{where}: base")

    def dim_of(sec: str, name: str, spec: Any, w: str) -> Dim:
        """The Dim of one ``params`` / ``optim`` entry (``paper: true`` resolved against the base)."""
        if sec == "params":
            if name not in registry.params:
                raise LTSearchError(f"{w}: params.{shown_key(name)}: unknown parameter for method '{method}'; "
                                    f"allowed: {', '.join(registry.params) or 'none'}")
            path, param, dim_name = f"method.params.{name}", registry.params[name], name
            default = registry.defaults(dataset).get(name)
        else:
            if name not in SHARED:
                raise LTSearchError(f"{w}: optim.{shown_key(name)}: unknown shared knob; allowed: {', '.join(SHARED)}")
            (path, param), dim_name, default = SHARED[name], f"optim.{name}", None
        return _parse_dim(dim_name, path, _paper_value(spec, probe, path, default), param, f"{w}: {sec}.{name}")

    dims = [dim_of("params", n, s, where) for n, s in params_raw.items()] + \
        [dim_of("optim", n, s, where) for n, s in optim_raw.items()]
    for w, sec, name, spec in narrowing:
        if (name if sec == "params" else f"optim.{name}") not in overridden:
            _check_narrows(dim_of(sec, name, spec, w), dim_of(sec, name, top[sec][name], where), f"{w}: {sec}.{name}",
                           f"{sec}.{name}")

    # conditions: explicit `when:` wins, else the registry's active_when
    for d in dims:
        if d.when is None and not d.name.startswith("optim."):
            aw = registry.params[d.name].active_when
            if aw is not None:
                d.when = (aw[0], tuple(aw[1]))
    base_cfg_for_defaults = probe
    method_defaults = registry.defaults(dataset)
    method_defaults.update((base_cfg_for_defaults["method"]["params"]) or {})
    by_name = {d.name: d for d in dims}
    kept: list[Dim] = []
    for d in dims:
        if _statically_active(d, by_name, method_defaults, base_cfg_for_defaults, where, registry_name=method):
            kept.append(d)
    dims = _order(kept, where)

    metric_name = metric or raw.get("metric") or DEFAULT_METRIC
    mode = raw.get("mode", "max")
    if mode not in ("max", "min"):
        raise LTSearchError(f"{where}: mode: {shown(mode)} is invalid; use max or min")
    check_metric(metric_name, where)
    if not (knobs_given or params):  # --fix (and --epochs) search nothing
        raise LTSearchError(f"{where}: no knobs to search: neither 'params' nor 'optim' is given; add 'params:' "
                            f"(ltsearch spaces show {method} lists them)")
    space = SearchSpace(method=method, dataset=dataset, metric=metric_name, mode=mode, base=base, dims=dims,
                        source=where, description=str(raw.get("description") or registry.description))
    # the paper point must build a valid config
    cfg = space.config_for(space.paper_point(space.base_config()), space.base_config())
    config_from_dict(cfg, where=f"{where}: base")
    registry.resolve(cfg["method"]["params"], dataset=dataset, where=f"{where}: params")
    return space



def recipe_base(method: str, dataset: str, recipe: Any, where: str) -> dict:
    """The base config a dataset's recipe adds: its own preset ``method/dataset`` (all but the
    dataset name), else the preset named by ``recipe`` (its run settings; its method parameters
    only when it is a preset of the same method), else nothing."""
    own = preset_name(method, dataset)
    if own is not None:
        cfg = load_preset(own)["config"]
        out = {k: v for k, v in cfg.items() if k not in ("dataset", "method")}
        out["dataset"] = {k: v for k, v in (cfg.get("dataset") or {}).items() if k != "name"}
        out["method"] = {"params": dict((cfg.get("method") or {}).get("params") or {})}
        return out
    if recipe is None:
        return {}
    if not isinstance(recipe, str) or recipe not in list_presets():
        raise LTSearchError(f"{where}: {recipe!r} is not a preset; use METHOD/DATASET as ltsearch presets list shows")
    cfg = load_preset(recipe)["config"]
    out = {k: v for k, v in cfg.items() if k not in ("dataset", "method")}
    if (cfg.get("method") or {}).get("name") == method:
        out["method"] = {"params": dict(cfg["method"].get("params") or {})}
    return out


def _paper_value(spec: Any, probe: dict, path: str, default: Any) -> Any:
    """``{paper: true}`` -> ``{fixed: <the base config's value>}`` (the recipe's, else the default)."""
    if not (isinstance(spec, dict) and "paper" in spec):
        return spec
    if spec["paper"] is not True or set(spec) & {"type", "low", "high", "log", "choices", "fixed"}:
        return spec  # _parse_dim names the problem
    value = get_path(probe, path) if path else None
    out = {k: v for k, v in spec.items() if k != "paper"}
    out["fixed"] = default if value is None else value
    return out


SEARCH_METRICS = ("val/acc", *(f"val/{g}" for g in GROUPS))  # what every trial reports each epoch


def check_metric(metric: str, where: str = "--metric") -> None:
    if metric not in SEARCH_METRICS:
        raise LTSearchError(f"{where}: metric {shown(metric)} is not one a trial reports; use "
                            f"{', '.join(SEARCH_METRICS)} (a search never tunes on test/*)")



def _section(raw: dict, key: str, where: str) -> dict:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LTSearchError(f"{where}: '{key}' must be a mapping, got {shown(value)}")
    return copy.deepcopy(value)


def _check_dataset_keys(datasets: dict, where: str) -> None:
    """Every ``datasets:`` key is a registered dataset, or a glob matching one."""
    from ltsearch.data import DATASETS  # here, as in config.py (ltsearch.data imports the config)

    names = DATASETS.names()
    for key in datasets:
        if not isinstance(key, str) or not fnmatch.filter(names, key):
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise LTSearchError(f"{where}: datasets.{shown_key(key)}: unknown dataset; {hint}use one of: "
                                f"{', '.join(names)} (or a glob such as cifar*)")


def _check_narrows(inner: Dim, outer: Dim, where: str, top_key: str) -> None:
    """A dataset section's entry without ``type:`` only narrows the top-level entry: its values lie inside."""
    if inner.kind in ("float", "int"):
        ok = outer.kind in ("float", "int") and outer.low <= inner.low and inner.high <= outer.high
    else:
        ok = all(outer.contains(v) for v in ([inner.value] if inner.kind == "fixed" else inner.choices or []))
    if not ok:
        inner.when = outer.when = None
        raise LTSearchError(f"{where}: {inner.describe()} reaches outside the top-level {top_key} "
                            f"({outer.describe()}); a dataset section only narrows: stay inside it, widen the "
                            f"top-level entry, or give type: to replace it")


def _overlay_dims(base: dict, overlay: dict) -> dict:
    """A dataset section's entries over the current ones: bounds alone merge in, others replace."""
    out = copy.deepcopy(base)
    for name, spec in overlay.items():
        old = out.get(name)
        if isinstance(spec, dict) and isinstance(old, dict) and "type" not in spec and "fixed" not in spec \
                and "choices" not in spec and "fixed" not in old and "paper" not in old:
            out[name] = {**old, **spec}
        else:
            out[name] = spec
    return out



def _num(value: Any, where: str, key: str, param: Param) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LTSearchError(f"{where}: '{key}' must be a number, got {shown(value)}; use a bound inside "
                            f"{param.range_text()}")
    return value


def _parse_dim(name: str, path: str, spec: Any, param: Param, where: str) -> Dim:
    rng = param.range_text()
    if isinstance(spec, list):
        spec = {"type": "categorical", "choices": spec}
    elif not isinstance(spec, dict):
        spec = {"fixed": spec}
    bad = sorted(set(spec) - set(DIM_KEYS), key=str)
    if bad:
        raise LTSearchError(f"{where}: unknown key '{shown_key(bad[0])}'; allowed: {', '.join(DIM_KEYS)}")
    if "paper" in spec:
        raise LTSearchError(f"{where}: paper takes true alone (fixed at the recipe's value); "
                            f"drop type / low / high / choices / fixed")
    if "fixed" in spec:
        kind = "fixed"
        extra = sorted(set(spec) & {"low", "high", "log", "choices"})
        if extra or spec.get("type") not in (None, "fixed"):
            raise LTSearchError(f"{where}: a fixed value takes no '{(extra or ['type'])[0]}'; "
                                f"give either fixed: V or type/low/high")
    else:
        kind = spec.get("type")
        if kind is None:
            kind = "categorical" if "choices" in spec else param.type if param.type in ("float", "int") else None
        if kind not in KINDS:
            raise LTSearchError(f"{where}: type {shown(kind)} is invalid; use float, int, categorical or fixed: V")
    help_text = str(spec.get("help") or param.help)
    when = _parse_when(spec.get("when"), where)
    default = spec.get("default")

    if kind == "fixed":
        value = param.check(spec["fixed"], where)
        return Dim(name, path, "fixed", value=value, when=when, help=help_text)

    if kind == "categorical":
        if "low" in spec or "high" in spec or "log" in spec:
            raise LTSearchError(f"{where}: a categorical takes choices: [...], not low/high/log")
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise LTSearchError(f"{where}: choices must be a non-empty list of values in {rng}, got {shown(choices)}")
        checked = []
        for c in choices:
            if param.type in ("float",) and isinstance(c, int) and not isinstance(c, bool):
                c = float(c)
            checked.append(param.check(c, where))
        if len({repr(c) for c in checked}) != len(checked):
            raise LTSearchError(f"{where}: choices {shown(choices)} repeat a value; list each value once")
        dim = Dim(name, path, "categorical", choices=checked, when=when, help=help_text)
    else:
        if param.type not in ("float", "int"):
            raise LTSearchError(f"{where}: '{name}' is {param.type} ({rng}); use type: categorical or fixed: V, "
                                f"not type: {kind}")
        if param.type == "int" and kind == "float":
            raise LTSearchError(f"{where}: '{name}' is an integer ({rng}); use type: int")
        for key in ("low", "high"):
            if key not in spec:
                raise LTSearchError(f"{where}: '{key}' is missing; give low and high inside {rng}")
        low = _num(spec["low"], where, "low", param)
        high = _num(spec["high"], where, "high", param)
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise LTSearchError(f"{where}: log must be true or false, got {shown(log)}")
        if kind == "int":
            for key, v in (("low", low), ("high", high)):
                if float(v) != int(v):
                    raise LTSearchError(f"{where}: {key} {shown(v)} must be an integer for type: int")
            low, high = int(low), int(high)
        else:
            low, high = float(low), float(high)
        for key, v in (("low", low), ("high", high)):
            if not param.in_range(v):
                raise LTSearchError(f"{where}: {key} {v:g} is outside the allowed range {rng}; "
                                    f"use bounds inside {rng}")
        if not low < high:
            raise LTSearchError(f"{where}: low {low:g} must be below high {high:g}; for one value use fixed: {low:g}")
        if log and low <= 0:
            raise LTSearchError(f"{where}: log scale needs low > 0, got {low:g}; use a positive low inside {rng} "
                                f"or drop log")
        dim = Dim(name, path, kind, low=low, high=high, log=log, when=when, help=help_text)

    if default is not None:
        default = param.check(default, f"{where}: default")
        if not dim.contains(default):
            raise LTSearchError(f"{where}: default {shown(default)} lies outside the searched values ({dim.describe()})")
        dim.default = default
    return dim


def _parse_when(when: Any, where: str) -> tuple[str, tuple] | None:
    if when is None:
        return None
    if not isinstance(when, dict) or len(when) != 1:
        raise LTSearchError(f"{where}: when must name one parameter and its values, e.g. "
                            f"when: {{lambda_schedule: step}}, got {shown(when)}")
    (ctrl, values), = when.items()
    if not isinstance(values, list):
        values = [values]
    if not values:
        raise LTSearchError(f"{where}: when.{ctrl} lists no values; give at least one")
    ctrl = str(ctrl)
    if ctrl in SHARED:
        ctrl = f"optim.{ctrl}"
    return ctrl, tuple(values)


def get_method_param(name: str, method: str) -> Param | None:
    return get_method(method).params.get(name)


def _check_when_values(name: str, ctrl: str, allowed: tuple, where: str, registry_name: str) -> None:
    """Every value of a ``when`` is one the controlling knob can take (its type and range)."""
    key = ctrl[len("optim."):] if ctrl.startswith("optim.") else None
    param = (SHARED[key][1] if key in SHARED else None) if key is not None else \
        get_method_param(ctrl, registry_name) if registry_name else None
    if param is None:
        return  # an unknown controller: named by the caller's error
    for value in allowed:
        try:
            param.check(value, where)
        except LTSearchError:
            raise LTSearchError(f"{where}: {name}: when {ctrl} = {shown(value)} never holds; {ctrl} takes "
                                f"{shown(param.range_text(), 120)}") from None


def _statically_active(d: Dim, by_name: dict[str, Dim], method_defaults: dict, base_cfg: dict,
                       where: str, seen: tuple = (), registry_name: str = "") -> bool:
    """Resolve conditions on fixed / unsearched controllers now; check searched ones."""
    if d.when is None:
        return True
    ctrl, allowed = d.when
    if ctrl in seen:
        raise LTSearchError(f"{where}: params.{d.name}: circular 'when' through {ctrl}")
    _check_when_values(d.name, ctrl, allowed, where, registry_name)
    c = by_name.get(ctrl)
    if c is None:
        if ctrl.startswith("optim."):
            key = ctrl[len("optim."):]
            if key not in SHARED:
                raise LTSearchError(f"{where}: {d.name}: when names unknown knob '{shown_key(ctrl)}'")
            value = get_path(base_cfg, SHARED[key][0])
        else:
            if ctrl not in method_defaults:
                raise LTSearchError(f"{where}: {d.name}: when names unknown parameter '{shown_key(ctrl)}'")
            value = method_defaults[ctrl]
            cp = get_method_param(ctrl, registry_name)
            if cp is not None and cp.choices and not any(_same(a, ch) for a in allowed for ch in cp.choices):
                raise LTSearchError(f"{where}: {d.name}: when {ctrl} in {shown(list(allowed))} never holds; "
                                    f"{ctrl} is one of {', '.join(map(str, cp.choices))}")
        if not any(_same(value, a) for a in allowed):  # never drop a knob silently
            knob, key = (n if n.startswith("optim.") else f"params.{n}" for n in (d.name, ctrl))
            raise LTSearchError(f"{where}: {knob}: when {ctrl} in {shown(list(allowed))} never holds: the space "
                                f"does not search {ctrl}, which is {shown(value)} here; add {key} to the space "
                                f"(searched, or fixed at one of those values) or drop {knob}")
        d.when = None
        return True
    if not _statically_active(c, by_name, method_defaults, base_cfg, where, seen + (d.name,), registry_name):
        return False
    if c.kind == "fixed":
        d.when = None
        return any(_same(c.value, a) for a in allowed)
    if c.kind != "categorical":
        raise LTSearchError(f"{where}: {d.name}: when on '{ctrl}' needs '{ctrl}' to be categorical or fixed, "
                            f"it is {c.kind}")
    hits = tuple(a for a in allowed if any(_same(a, ch) for ch in c.choices or []))
    if not hits:
        raise LTSearchError(f"{where}: {d.name}: when {ctrl} in {shown(list(allowed))} never holds; "
                            f"{ctrl} is one of {', '.join(map(str, c.choices or []))}")
    d.when = (ctrl, hits)
    return True


def _order(dims: list[Dim], where: str) -> list[Dim]:
    """Controllers before their dependents, otherwise file order (graphlib, ready sets in file order)."""
    names = {d.name for d in dims}
    pos = {d.name: i for i, d in enumerate(dims)}
    graph = graphlib.TopologicalSorter(
        {d.name: ([d.when[0]] if d.when is not None and d.when[0] in names else []) for d in dims})
    try:
        graph.prepare()
    except graphlib.CycleError as err:
        cycle = sorted(set(err.args[1]), key=pos.get)
        raise LTSearchError(f"{where}: circular 'when' conditions among {', '.join(cycle)}") from None
    by_name, out = {d.name: d for d in dims}, []
    while graph.is_active():
        ready = sorted(graph.get_ready(), key=pos.get)
        out.extend(by_name[n] for n in ready)
        graph.done(*ready)
    return out


def _parse_override(item: str, flag: str, registry) -> tuple[str, Any]:
    """``m_max=0.1:0.8`` -> ("m_max", {type: float, low, high}); ``--fix n_base=50`` -> fixed."""
    if "=" not in item:
        raise LTSearchError(f"{flag} {shown(item)}: expected NAME=VALUES, e.g. {flag} m_max=0.1:0.8")
    name, _, text = item.partition("=")
    name, text = name.strip(), text.strip()
    if name.startswith("method.params."):
        name = name[len("method.params."):]
    if name in SHARED and name not in registry.params:
        name = f"optim.{name}"
    if name.startswith("optim."):
        key = name[len("optim."):]
        if key not in SHARED:
            raise LTSearchError(f"{flag} {shown(item)}: unknown shared knob '{shown_key(key)}'; allowed: {', '.join(SHARED)}")
        param = SHARED[key][1]
    else:
        if name not in registry.params:
            raise LTSearchError(f"{flag} {shown(item)}: unknown parameter '{shown_key(name)}' for method '{registry.name}'; "
                                f"allowed: {', '.join(registry.params) or 'none'} or optim.<knob>")
        param = registry.params[name]
    if not text:
        raise LTSearchError(f"{flag} {shown(item)}: no value; e.g. {flag} {name}=0.1:0.8")
    if flag == "--fix":
        return name, {"fixed": parse_value(text)}
    if ":" in text and param.type in ("float", "int"):
        parts = text.split(":")
        log = False
        kind = param.type
        while len(parts) > 2 and parts[-1] in ("log", "int", "float"):
            tag = parts.pop()
            if tag == "log":
                log = True
            else:
                kind = tag
        if len(parts) != 2:
            raise LTSearchError(f"{flag} {shown(item)}: expected LOW:HIGH[:log], e.g. {name}=8:32:log")
        try:
            low, high = (float(p) for p in parts)
        except ValueError:
            raise LTSearchError(f"{flag} {shown(item)}: bounds must be numbers, e.g. {name}=8:32:log") from None
        spec: dict[str, Any] = {"type": kind, "low": low, "high": high}
        if log:
            spec["log"] = True
        return name, spec
    if "," in text:
        return name, {"type": "categorical", "choices": [parse_value(t.strip()) for t in text.split(",")]}
    return name, {"fixed": parse_value(text)}


# ---------------------------------------------------------------------------------------
# templates
# ---------------------------------------------------------------------------------------
def generate_space(method: str) -> dict:
    """A starting space from the registry (defaults, ranges around them)."""
    registry = get_method(method)
    params: dict[str, Any] = {}
    for name, p in registry.params.items():
        if p.type == "categorical":
            params[name] = {"type": "categorical", "choices": list(p.choices or [])}
        elif p.type == "bool":
            params[name] = {"type": "categorical", "choices": [True, False]}
        elif p.type == "path":
            continue
        elif p.type in ("float", "int"):
            d = p.default
            if d is None:
                continue
            if d > 0:
                low, high = d / 2, d * 2
            else:
                low, high = (p.low if p.low is not None else -1.0), (p.high if p.high is not None else 1.0)
            if p.low is not None:
                low = max(low, p.low)
            if p.high is not None:
                high = min(high, p.high)
            if p.type == "int":
                low, high = int(math.ceil(low)), int(math.floor(high))
            if not low < high or not p.in_range(low) or not p.in_range(high):
                params[name] = {"fixed": d}
                continue
            spec = {"type": p.type, "low": low, "high": high}
            if d > 0 and low > 0 and high / low >= 4:
                spec["log"] = True
            params[name] = spec
        if p.active_when and name in params:
            ctrl, vals = p.active_when
            params[name]["when"] = {ctrl: list(vals)[0] if len(vals) == 1 else list(vals)}
    return {
        "method": method,
        "metric": DEFAULT_METRIC,
        "datasets": {DEFAULT_DATASET: {"base": {"model": {"name": "resnet8"}, "epochs": 5,
                                            "optim": {"batch_size": 64}, "schedule": {"warmup_epochs": 0}}}},
        "params": params,
        "optim": {"lr": {"type": "float", "low": 0.02, "high": 0.2, "log": True},
                  "weight_decay": {"type": "float", "low": 1e-5, "high": 1e-3, "log": True}},
    }


def space_template(method: str) -> str:
    """The text of the method's built-in space file (or a generated one) for ``spaces new``."""
    p = builtin_space_path(method)
    get_method(method)
    if p is not None:
        return p.read_text()
    return f"# search space for {method} (generated from the method registry)\n" + yaml.safe_dump(
        generate_space(method), sort_keys=False, default_flow_style=None)
