"""What a method is: its head, its stages, its criterion and the typed ranges of its knobs.

The trial never branches on a method name: it asks the method for its head, its stages
and, per stage, a :class:`~ltsearch.methods.criteria.Criterion` (the loss plus its epoch hooks).
This module is plain Python: the knobs are declared and checked without torch; the criteria
(``nn.Module``s) are built from :mod:`ltsearch.methods.criteria` when a trial asks for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from ltsearch.checks import shown
from ltsearch.errors import LTSearchError
from ltsearch.presets import paper_params

if TYPE_CHECKING:  # torch: only a trial builds criteria
    from ltsearch.methods.criteria import Criterion


@dataclass(frozen=True)
class Param:
    """A method hyperparameter: type, default and valid range (read by the search engine).

    ``low``/``high`` bound floats and ints; ``low_open`` / ``high_open`` make a bound
    exclusive; ``choices`` lists the values of a categorical; ``active_when`` names
    another parameter and the values under which this one matters (conditional knobs).
    """

    name: str
    type: str  # "float" | "int" | "categorical" | "bool" | "path"
    default: Any
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    help: str = ""
    active_when: tuple[str, tuple] | None = None

    def is_active(self, values: dict[str, Any]) -> bool:
        """Whether this knob has an effect given the method's other ``values`` (its ``active_when``)."""
        return self.active_when is None or values.get(self.active_when[0]) in self.active_when[1]

    def range_text(self) -> str:
        if self.type == "categorical":
            return "one of " + ", ".join(map(str, self.choices or ()))
        if self.type == "bool":
            return "true or false"
        if self.type == "path":
            return "a file path or null"
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{lo}{low}, {high}{hi}"

    def in_range(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return True

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` coerced to this type, or raise an error naming ``where`` and the range."""
        bad = LTSearchError(f"{where}: '{self.name}' = {shown(value)} is invalid; use {self.range_text()}")
        if self.type == "categorical":
            if value not in (self.choices or ()):
                raise bad
            return value
        if self.type == "bool":
            if not isinstance(value, bool):
                raise bad
            return value
        if self.type == "path":
            if value is not None and not isinstance(value, str):
                raise bad
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if self.type == "int":
            if isinstance(value, float) and not value.is_integer():
                raise bad
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise bad
        if not self.in_range(value):
            raise bad
        return value


@dataclass
class Stage:
    """One training stage: what is trained, with which optimiser settings and objective."""

    name: str
    epochs: int
    lr: float
    weight_decay: float
    momentum: float
    batch_size: int
    schedule: Any  # ltsearch.config.ScheduleConfig
    criterion: Criterion
    train_part: str = "all"  # "all" | "head" (backbone frozen)
    bn: str = "frozen"  # with train_part == "head": "frozen" (features fixed) | "train" (BN stats keep moving)
    tta_flip: bool = False  # evaluate with logits averaged over the flipped image


class Method:
    """A registered method: ``@METHODS.register("name")`` on a subclass that sets the class
    attributes below and overrides :meth:`criterion` (and :meth:`stages`).

    Knob ranges and defaults live in ``params``; a dataset's paper values live in its preset
    (``presets/<method>/<dataset>.yaml``), which :meth:`defaults` reads.
    """

    name: str = ""  # set by the registry
    head: str = "linear"  # "linear" | "cosine"
    description: str = ""
    params: dict[str, Param] = {}

    # ---- parameters -----------------------------------------------------------------
    def defaults(self, dataset: str | None = None) -> dict[str, Any]:
        """The knobs' defaults, with the dataset's paper values (e.g. KPS m_max 0.35 on ImageNet-LT)."""
        out = {n: p.default for n, p in self.params.items()}
        if dataset:
            out.update(paper_params(self.name, dataset))
        return out

    def resolve(self, given: dict[str, Any] | None, dataset: str | None = None,
                where: str = "method.params") -> dict[str, Any]:
        """Defaults + ``given``, each value checked against its type and range."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            allowed = ", ".join(self.params) or "none"
            raise LTSearchError(f"{where}: unknown parameter '{unknown[0]}' for method '{self.name}'; "
                                f"allowed: {allowed}")
        out = self.defaults(dataset)
        for key, value in given.items():
            out[key] = self.params[key].check(value, where)
        return out

    # ---- training -------------------------------------------------------------------
    def criterion(self, params: dict[str, Any], class_counts: Sequence[int], feat_dim: int) -> Criterion:
        raise NotImplementedError

    def stage_epochs(self, cfg, params: dict[str, Any]) -> list[int]:
        """Epochs of each stage that will run (without building the criteria)."""
        return [cfg.epochs]

    def stages(self, cfg, params: dict[str, Any], class_counts: Sequence[int], feat_dim: int) -> list[Stage]:
        """Default: one stage trained end to end with the config's optimiser and schedule (the
        criterion, a torch module, is built here: ``criterion()`` imports the torch modules)."""
        return [Stage(name="train", epochs=cfg.epochs, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay,
                      momentum=cfg.optim.momentum, batch_size=cfg.optim.batch_size, schedule=cfg.schedule,
                      criterion=self.criterion(params, class_counts, feat_dim), tta_flip=cfg.tta_flip)]
