"""Search spaces: YAML files in ``search_spaces/`` (one per method), validated against the
method registry, with per-dataset overlays and command-line overrides.

File format (every section optional except ``method``)::

    method: kps
    metric: val/acc                 # any metric the trial reports; mode max
    base: {epochs: 200}             # TrialConfig overrides applied to every trial
    datasets:                       # overlays, keys are dataset names or globs ("cifar*")
      imagenet-lt:
        base: {model: {name: resnet50}}
        params: {m_max: {low: 0.2, high: 0.5}}     # merged into the entry below
    params:                         # method knobs (names from METHODS.get(method).params)
      m_max: {type: float, low: 0.1, high: 0.8}
      s_base: {type: float, low: 8, high: 32, log: true}
      ga: {type: categorical, choices: [column, row, off]}
      n_base: {fixed: 50}           # or simply  n_base: 50
      lambda_milestone: {type: float, low: 0.2, high: 0.8, when: {lambda_schedule: step}}
    optim:                          # shared knobs: lr, weight_decay, momentum, batch_size,
      lr: {type: float, low: 0.02, high: 0.2, log: true}   # epochs, warmup_epochs, nesterov,
      weight_decay: {type: float, low: 1e-5, high: 1e-3, log: true}   # schedule

A dimension is sampled only when its condition holds: ``when:`` in the file, else the
registry's ``Param.active_when``. A condition on a fixed or unsearched knob is decided once
(kept or dropped); on a categorical knob it is decided per trial (define-by-run).

Command-line overrides (replace the whole entry): ``m_max=0.1:0.8``, ``s_base=8:32:log``,
``ga=column,row``, ``optim.lr=0.01:0.1:log``, ``stage2_epochs=1:5:int``; ``--fix n_base=50``.
"""

from __future__ import annotations

import copy
import fnmatch
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ltsearch.config import TrialConfig, config_from_dict, load_yaml, parse_value
from ltsearch.checks import shown, shown_key
from ltsearch.errors import LTSearchError
from ltsearch.methods import Param, get_method, METHODS

SPACE_DIR = "search_spaces"
DEFAULT_METRIC = "val/acc"
TOP_KEYS = ("method", "metric", "mode", "description", "base", "datasets", "params", "optim")
DIM_KEYS = ("type", "low", "high", "log", "choices", "fixed", "when", "default", "help")
KINDS = ("float", "int", "categorical", "fixed")

# Shared (method-independent) knobs: name in the space -> (config path, typed range).
SHARED: dict[str, tuple[str, Param]] = {
    "lr": ("optim.lr", Param("lr", "float", 0.1, 0.0, 10.0, low_open=True, help="SGD learning rate")),
    "weight_decay": ("optim.weight_decay", Param("weight_decay", "float", 2e-4, 0.0, 1.0, help="weight decay")),
    "momentum": ("optim.momentum", Param("momentum", "float", 0.9, 0.0, 1.0, high_open=True, help="SGD momentum")),
    "batch_size": ("optim.batch_size", Param("batch_size", "int", 64, 1, 65536, help="batch size")),
    "nesterov": ("optim.nesterov", Param("nesterov", "bool", False, help="Nesterov momentum")),
    "epochs": ("epochs", Param("epochs", "int", 200, 1, 100_000, help="training epochs (stage 1)")),
    "warmup_epochs": ("schedule.warmup_epochs",
                      Param("warmup_epochs", "float", 5.0, 0.0, 10_000.0, help="linear warm-up epochs")),
    "schedule": ("schedule.name", Param("schedule", "categorical", "multistep",
                                        choices=("multistep", "cosine", "constant"), help="lr schedule")),
}


@dataclass
class Dim:
    """One searched (or fixed) knob. ``name`` is ``m_max`` for a method knob and ``optim.lr``
    for a shared one; ``path`` is where it goes in the trial config."""

    name: str
    path: str
    kind: str  # float | int | categorical | fixed
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list | None = None
    value: Any = None  # fixed value
    when: tuple[str, tuple] | None = None  # (controlling dim name, values under which active)
    default: Any = None  # the paper's value (first trial), None = not in range / unknown
    help: str = ""

    @property
    def searched(self) -> bool:
        return self.kind != "fixed"

    def describe(self) -> str:
        if self.kind == "fixed":
            text = f"fixed {self.value!r}"
        elif self.kind == "categorical":
            text = "one of " + ", ".join(map(_fmt, self.choices or []))
        else:
            text = f"{self.kind} [{_fmt(self.low)}, {_fmt(self.high)}]" + (" log" if self.log else "")
        if self.when:
            text += f"  when {self.when[0]} in {list(self.when[1])}"
        return text

    def to_yaml(self) -> Any:
        if self.kind == "fixed":
            out: dict[str, Any] = {"fixed": self.value}
        elif self.kind == "categorical":
            out = {"type": "categorical", "choices": list(self.choices or [])}
        else:
            out = {"type": self.kind, "low": self.low, "high": self.high}
            if self.log:
                out["log"] = True
        if self.when:
            vals = list(self.when[1])
            out["when"] = {self.when[0]: vals[0] if len(vals) == 1 else vals}
        return out

    def contains(self, value: Any) -> bool:
        if self.kind == "fixed":
            return value == self.value
        if self.kind == "categorical":
            return any(_same(value, c) for c in self.choices or [])
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind == "int" and float(value) != int(value):
            return False
        return self.low <= value <= self.high

    def grid_values(self, points: int) -> list:
        if self.kind == "fixed":
            return [self.value]
        if self.kind == "categorical":
            return list(self.choices or [])
        points = max(1, int(points))
        if points == 1:
            vals = [self.default if self.default is not None else (self.low + self.high) / 2]
        elif self.log:
            a, b = math.log(self.low), math.log(self.high)
            vals = [math.exp(a + (b - a) * i / (points - 1)) for i in range(points)]
        else:
            vals = [self.low + (self.high - self.low) * i / (points - 1) for i in range(points)]
        if self.kind == "int":
            out: list = []
            for v in vals:
                iv = int(round(v))
                if iv not in out:
                    out.append(iv)
            return out
        return [float(f"{v:.6g}") for v in vals]


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (
        not isinstance(a, bool) and not isinstance(b, bool)
        and isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)


@dataclass
class SearchSpace:
    """A validated space for one method and one dataset."""

    method: str
    dataset: str
    metric: str = DEFAULT_METRIC
    mode: str = "max"
    base: dict = field(default_factory=dict)  # config overrides (space base + dataset base)
    dims: list[Dim] = field(default_factory=list)  # ordered: controllers before dependents
    source: str = "<built-in>"
    description: str = ""

    # ---- views --------------------------------------------------------------------
    @property
    def searched(self) -> list[Dim]:
        return [d for d in self.dims if d.searched]

    @property
    def fixed(self) -> list[Dim]:
        return [d for d in self.dims if not d.searched]

    def dim(self, name: str) -> Dim:
        for d in self.dims:
            if d.name == name:
                return d
        raise LTSearchError(f"{self.source}: no parameter '{shown_key(name)}' in the {self.method} space; "
                            f"have: {', '.join(d.name for d in self.dims) or 'none'}")

    def active(self, dim: Dim, values: dict) -> bool:
        """Whether ``dim`` is sampled given the values of the other (searched) dims."""
        if dim.when is None:
            return True
        ctrl, allowed = dim.when
        if ctrl not in values:
            return False
        return any(_same(values[ctrl], a) for a in allowed)

    def to_dict(self) -> dict:
        """The resolved space as YAML-ready data (what ``spaces show`` prints, ``space.yaml``)."""
        params = {d.name: d.to_yaml() for d in self.dims if not d.name.startswith("optim.")}
        optim = {d.name[len("optim."):]: d.to_yaml() for d in self.dims if d.name.startswith("optim.")}
        out: dict[str, Any] = {"method": self.method, "dataset": self.dataset, "metric": self.metric}
        if self.mode != "max":
            out["mode"] = self.mode
        if self.base:
            out["base"] = self.base
        out["params"] = params
        if optim:
            out["optim"] = optim
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)

    # ---- configs ------------------------------------------------------------------
    def base_config(self, overrides: dict | None = None) -> dict:
        """TrialConfig defaults + the space's base + ``overrides`` (dataset flags etc.)."""
        data = TrialConfig().to_dict()
        data = _deep_merge(data, self.base)
        data = _deep_merge(data, overrides or {})
        data["method"] = {"name": self.method, "params": dict((data.get("method") or {}).get("params") or {})}
        data["dataset"]["name"] = self.dataset
        return data

    def paper_point(self, base_config: dict) -> dict:
        """Values of the searched dims at the paper's setting (for the first trial); dims whose
        paper value lies outside the searched range are left out (sampled)."""
        method = get_method(self.method)
        defaults = method.defaults(self.dataset)
        point: dict[str, Any] = {}
        for d in self.searched:
            if not self.active(d, point):
                continue
            if d.default is not None:
                value = d.default
            elif d.name.startswith("optim."):
                value = _get_path(base_config, d.path)
            else:
                value = (base_config["method"]["params"] or {}).get(d.name, defaults.get(d.name))
            if d.contains(value):
                point[d.name] = int(value) if d.kind == "int" else value
        return point

    def config_for(self, values: dict, base_config: dict) -> dict:
        """The full trial config for one sample (searched values + fixed values)."""
        cfg = copy.deepcopy(base_config)
        for d in self.dims:
            if d.searched:
                if d.name not in values:
                    continue
                v = values[d.name]
            else:
                if not self.active(d, values) and d.when is not None:
                    continue
                v = d.value
            _set_path(cfg, d.path, v)
        return cfg

    def grid(self, points: int = 3, over: list[str] | None = None,
             values: dict[str, list] | None = None, base_config: dict | None = None) -> list[dict]:
        """All combinations of grid values (conditional dims only where active). With ``over``,
        dims not listed take their paper value; ``values`` gives explicit lists per dim."""
        values = dict(values or {})
        for name in values:
            self.dim(name)  # unknown name -> error
        over_set = set(over) if over is not None else None
        if over_set is not None:
            for name in over_set:
                self.dim(name)
        paper = self.paper_point(base_config) if base_config is not None else {}
        combos: list[dict] = [{}]
        for d in self.searched:
            if over_set is not None and d.name not in over_set and d.name not in values:
                opts = [paper[d.name]] if d.name in paper else [d.grid_values(1)[0]]
            else:
                opts = values.get(d.name) or d.grid_values(points)
            nxt = []
            for c in combos:
                if not self.active(d, c):
                    nxt.append(c)
                    continue
                nxt.extend({**c, d.name: o} for o in opts)
            combos = nxt
        unique: list[dict] = []
        for c in combos:
            if c not in unique:
                unique.append(c)
        return unique


# ---------------------------------------------------------------------------------------
# loading
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


def load_space(method: str | None = None, path: str | Path | None = None, dataset: str = "digits-lt",
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


def parse_space(raw: dict, where: str, method: str | None = None, dataset: str = "digits-lt",
                params: list[str] | None = None, fixed: list[str] | None = None,
                metric: str | None = None) -> SearchSpace:
    if not isinstance(raw, dict):
        raise LTSearchError(f"{where}: top level must be a mapping with method, params, optim")
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
    params_raw = _section(raw, "params", where)
    optim_raw = _section(raw, "optim", where)
    base = _section(raw, "base", where)
    datasets = _section(raw, "datasets", where)
    for pattern, overlay in datasets.items():
        if not fnmatch.fnmatch(dataset, str(pattern)):
            continue
        w = f"{where}: datasets.{pattern}"
        if not isinstance(overlay, dict):
            raise LTSearchError(f"{w} must be a mapping with base / params / optim")
        bad = sorted(set(overlay) - {"base", "params", "optim", "metric"}, key=str)
        if bad:
            raise LTSearchError(f"{w}: unknown key '{shown_key(bad[0])}'; allowed: base, params, optim, metric")
        base = _deep_merge(base, _section(overlay, "base", w))
        params_raw = _overlay_dims(params_raw, _section(overlay, "params", w))
        optim_raw = _overlay_dims(optim_raw, _section(overlay, "optim", w))
        if overlay.get("metric"):
            raw = {**raw, "metric": overlay["metric"]}

    # command-line overrides replace the entry
    for flag, items in (("--param", params or []), ("--fix", fixed or [])):
        for item in items:
            name, spec = _parse_override(item, flag, registry)
            if name.startswith("optim."):
                optim_raw[name[len("optim."):]] = spec
            else:
                params_raw[name] = spec

    # the base config must be a valid TrialConfig section set
    if "method" in base and (not isinstance(base["method"], dict) or set(base["method"]) - {"params"}
                             or not isinstance(base["method"].get("params") or {}, dict)):
        raise LTSearchError(f"{where}: base.method may only hold 'params' (a mapping); the method is '{method}'")
    probe = _deep_merge(TrialConfig().to_dict(), base)
    probe["method"] = {"name": method, "params": dict((probe.get("method") or {}).get("params") or {})}
    config_from_dict(probe, where=f"{where}: base")

    dims: list[Dim] = []
    for name, spec in params_raw.items():
        if name not in registry.params:
            raise LTSearchError(f"{where}: params.{shown_key(name)}: unknown parameter for method '{method}'; "
                                f"allowed: {', '.join(registry.params) or 'none'}")
        dims.append(_parse_dim(name, f"method.params.{name}", spec, registry.params[name], f"{where}: params.{name}"))
    for name, spec in optim_raw.items():
        if name not in SHARED:
            raise LTSearchError(f"{where}: optim.{shown_key(name)}: unknown shared knob; allowed: {', '.join(SHARED)}")
        path, param = SHARED[name]
        dims.append(_parse_dim(f"optim.{name}", path, spec, param, f"{where}: optim.{name}"))

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
    space = SearchSpace(method=method, dataset=dataset, metric=metric_name, mode=mode, base=base, dims=dims,
                        source=where, description=str(raw.get("description") or registry.description))
    # the paper point must build a valid config
    cfg = space.config_for(space.paper_point(space.base_config()), space.base_config())
    config_from_dict(cfg, where=f"{where}: base")
    registry.resolve(cfg["method"]["params"], dataset=dataset, where=f"{where}: params")
    return space


METRIC_PREFIXES = ("val/", "train/", "best/val/")


def check_metric(metric: str, where: str = "--metric") -> None:
    if not isinstance(metric, str) or not metric.strip() or metric.startswith("test/"):
        raise LTSearchError(f"{where}: metric {shown(metric)} is invalid; use a reported validation metric like "
                            f"val/acc, val/many, val/medium or val/few (never test/*)")


def _section(raw: dict, key: str, where: str) -> dict:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LTSearchError(f"{where}: '{key}' must be a mapping, got {shown(value)}")
    return copy.deepcopy(value)


def _overlay_dims(base: dict, overlay: dict) -> dict:
    out = copy.deepcopy(base)
    for name, spec in overlay.items():
        old = out.get(name)
        if isinstance(spec, dict) and isinstance(old, dict) and "type" not in spec and "fixed" not in spec \
                and "choices" not in spec and "fixed" not in old:
            out[name] = {**old, **spec}
        else:
            out[name] = spec
    return out


def _deep_merge(a: dict, b: dict) -> dict:
    out = copy.deepcopy(a)
    for k, v in (b or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _get_path(cfg: dict, path: str) -> Any:
    node: Any = cfg
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _set_path(cfg: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node = cfg
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


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
            value = _get_path(base_cfg, SHARED[key][0])
        else:
            if ctrl not in method_defaults:
                raise LTSearchError(f"{where}: {d.name}: when names unknown parameter '{shown_key(ctrl)}'")
            value = method_defaults[ctrl]
            cp = get_method_param(ctrl, registry_name)
            if cp is not None and cp.choices and not any(_same(a, ch) for a in allowed for ch in cp.choices):
                raise LTSearchError(f"{where}: {d.name}: when {ctrl} in {shown(list(allowed))} never holds; "
                                    f"{ctrl} is one of {', '.join(map(str, cp.choices))}")
        active = any(_same(value, a) for a in allowed)
        d.when = None
        return active
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
    """Controllers before their dependents, otherwise file order."""
    names = {d.name for d in dims}
    done: list[Dim] = []
    placed: set[str] = set()
    pending = list(dims)
    while pending:
        progressed = False
        for d in list(pending):
            if d.when is None or d.when[0] in placed or d.when[0] not in names:
                done.append(d)
                placed.add(d.name)
                pending.remove(d)
                progressed = True
        if not progressed:
            raise LTSearchError(f"{where}: circular 'when' conditions among {', '.join(d.name for d in pending)}")
    return done


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
        "datasets": {"digits-lt": {"base": {"model": {"name": "resnet8"}, "epochs": 5,
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
