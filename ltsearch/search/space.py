"""The search-space model: :class:`Dim` and :class:`SearchSpace`, plain data pickled to the Ray
workers. A space is built from a space file by :mod:`ltsearch.search.spacefile` (the grammar);
``load_space``, ``parse_space``, ``list_spaces``, ``space_template``, ``check_metric`` and
``SHARED`` are re-exported here from there.

The first trial of a search is the paper point: every searched knob at the dataset's paper
value (its preset, ``ltsearch/presets``), which the space's base config already holds.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import yaml

from ltsearch.checks import shown_key
from ltsearch.config import TrialConfig
from ltsearch.errors import LTSearchError
from ltsearch.methods import get_method

DEFAULT_METRIC = "val/acc"
EDGE = 0.1  # a best value in the outer tenth of its range (in the range's scale) is "at the edge"
_GRAMMAR = ("load_space", "parse_space", "list_spaces", "space_template", "check_metric", "builtin_space_path",
            "space_dirs", "generate_space", "SHARED", "SPACE_DIR")


def __getattr__(name: str):  # the space-file grammar, re-exported (it imports this module)
    if name in _GRAMMAR:
        return getattr(import_module("ltsearch.search.spacefile"), name)
    raise AttributeError(f"module 'ltsearch.search.space' has no attribute {name!r}")


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

    @classmethod
    def from_description(cls, name: str, text: str, path: str | None = None) -> "Dim | None":
        """The knob that :meth:`describe` wrote ``text`` for (the ``space.<knob>`` param of a search's
        MLflow parent run), read back; None for text it never writes (another tool's, a cut value).
        Kind, ``log`` and ``when`` come back exactly, a fixed value too (its ``repr``); bounds and
        choices as ``describe`` printed them (floats at 6 significant digits)."""
        import ast
        import re

        if not isinstance(text, str):
            return None
        when = None
        m = re.fullmatch(r"(?P<body>.*?)(?:  when (?P<ctrl>\S+) in (?P<vals>\[.*\]))?", text, re.S)
        body = m.group("body")
        if m.group("ctrl") is not None:
            try:
                vals = ast.literal_eval(m.group("vals"))
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
            if not isinstance(vals, list):
                return None
            when = (m.group("ctrl"), tuple(vals))
        if body.startswith("fixed "):
            return cls(name, path or name, "fixed", value=_read_repr(body[len("fixed "):]), when=when)
        if body.startswith("one of "):
            choices = [_read_fmt(c) for c in body[len("one of "):].split(", ")]
            return cls(name, path or name, "categorical", choices=choices, when=when)
        r = re.fullmatch(r"(?P<kind>float|int) \[(?P<low>[^,\]]+), (?P<high>[^,\]]+)\](?P<log> log)?", body)
        if r is None:
            return None
        try:
            low, high = float(r.group("low")), float(r.group("high"))
        except ValueError:
            return None
        if r.group("kind") == "int" and low.is_integer() and high.is_integer():
            low, high = int(low), int(high)
        return cls(name, path or name, r.group("kind"), low=low, high=high, log=r.group("log") is not None,
                   when=when)

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

    def edge(self, value: Any, near: float = EDGE) -> str | None:
        """``"low"`` / ``"high"`` when ``value`` lies in the outer ``near`` of this range (measured
        in the range's own scale, log or linear), else None: a best value there suggests the
        optimum lies beyond the range."""
        if self.kind not in ("float", "int") or not self.contains(value) or self.high <= self.low:
            return None
        if self.log:
            where = math.log(value / self.low) / math.log(self.high / self.low)
        else:
            where = (value - self.low) / (self.high - self.low)
        return "low" if where <= near else "high" if where >= 1 - near else None

    def widened(self, end: str) -> str:
        """``--param`` text of this range widened at ``end``: a log range by a factor of
        sqrt(high / low) (it stays positive); a linear one with that end left to the user, who knows
        the knob's bounds (delta < 1, theta in [0, 1])."""
        low, high = float(self.low), float(self.high)
        if not self.log:
            return f"--param {self.name}=" + (f"LOW:{_fmt(self.high)}" if end == "low" else f"{_fmt(self.low)}:HIGH")
        factor = math.sqrt(high / low)
        low, high = (low / factor, high) if end == "low" else (low, high * factor)
        if self.kind == "int":
            return f"--param {self.name}={max(1, math.floor(low))}:{math.ceil(high)}:log"
        return f"--param {self.name}={low:.3g}:{high:.3g}:log"

    def grid_values(self, points: int) -> list:
        """``points`` values spread evenly (``log``: geometrically) over [low, high]; one point:
        the paper's value or the middle."""
        if self.kind == "fixed":
            return [self.value]
        if self.kind == "categorical":
            return list(self.choices or [])
        points = max(1, int(points))
        if points == 1:
            vals = [self.default if self.default is not None else (self.low + self.high) / 2]
        else:
            vals = spread(float(self.low), float(self.high), points, self.log)
        if self.kind == "int":
            return list(dict.fromkeys(int(round(v)) for v in vals))
        return [float(f"{v:.6g}") for v in vals]


def edge_notes(space: "SearchSpace", values: dict, near: float = EDGE) -> list[str]:
    """One line per searched knob whose best ``values`` lies at an end of its range, with the wider
    range to search next (printed after a search)."""
    notes = []
    for d in space.searched:
        end = d.edge(values.get(d.name), near) if d.name in values else None
        if end is not None:
            notes.append(f"{d.name} = {_fmt(values[d.name])} lies at the {end} end of its range "
                         f"[{_fmt(d.low)}, {_fmt(d.high)}]{' (log)' if d.log else ''}: the best may lie beyond; "
                         f"widen it, e.g. {d.widened(end)}")
    return notes


def spread(low: float, high: float, points: int, log: bool = False) -> list[float]:
    """``points >= 2`` values from ``low`` to ``high``, evenly (``log``: geometrically) spaced: numpy's
    ``linspace`` / ``geomspace`` with the same float operations, in plain Python (numpy costs a
    bad-input error 0.2 s to import; tests/search/test_space.py compares the two: linspace bit for
    bit, geomspace to 1e-14, as numpy 2.4's logspace rounds its last bits otherwise)."""
    a, b = (math.log10(low), math.log10(high)) if log else (low, high)
    step = (b - a) / (points - 1)
    vals = [i * step + a for i in range(points)]
    vals[-1] = b
    if log:
        vals = [10.0 ** v for v in vals]
        vals[0], vals[-1] = low, high  # geomspace sets the ends exactly
    return vals


def _fmt(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _read_fmt(text: str) -> Any:
    """A value as :func:`_fmt` printed it: an int, a float, a bool / None, else the text."""
    special = {"True": True, "False": False, "None": None}
    if text in special:
        return special[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _read_repr(text: str) -> Any:
    """A value as ``repr`` printed it (a YAML scalar or list); ``inf`` / ``nan`` too; else the text."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            return float(text)
        except ValueError:
            return text


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
        data = deep_merge(data, self.base)
        data = deep_merge(data, overrides or {})
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
                value = get_path(base_config, d.path)
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
            set_path(cfg, d.path, v)
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



def deep_merge(a: dict, b: dict) -> dict:
    out = copy.deepcopy(a)
    for k, v in (b or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def get_path(cfg: dict, path: str) -> Any:
    node: Any = cfg
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def set_path(cfg: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node = cfg
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
