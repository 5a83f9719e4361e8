"""The trial config: typed dataclasses, strict YAML loading, ``key=value`` overrides.

A trial config is plain data (YAML / dict). Every default lives here, with its unit:

    dataset:  name, root, imbalance_ratio, val ("split" | "test"), seed, profile, download, augment
    model:    name (resnet32, resnet8, resnet20, resnet34-cifar, resnet50, resnext50), init
    method:   name + params (the method registry validates params)
    optim:    SGD lr, momentum, weight_decay, nesterov, batch_size
    schedule: name (ltsearch.train.schedules.LR_SCHEDULES), warmup_epochs, milestones
              (fractions of the run), gamma
    epochs, seed, device ("auto" | "cpu" | "cuda" | "cuda:N"), amp, channels_last ("auto" | true | false),
    compile (false | true | a torch.compile mode, e.g. "reduce-overhead": CUDA graphs)

These are run settings; the papers' recipes live in ``ltsearch/presets`` and the ranges of a
method's knobs in its ``Param``s.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from ltsearch.checks import MAX_EPOCHS, MAX_IMBALANCE_RATIO, MAX_SEED, shown, shown_key
from ltsearch.errors import LTSearchError
from ltsearch.models import MODELS
from ltsearch.train.schedules import LR_SCHEDULES
from ltsearch.yamlio import read_text, safe_load

DEFAULT_DATASET = "digits-lt"  # the embedded offline dataset: the default of every command
VAL_MODES = ("split", "test")
MODEL_INITS = ("default", "authors")


@dataclass
class DatasetConfig:
    """What data a trial loads (``ltsearch.data.load_dataset`` takes it as is; alias ``DatasetSpec``)."""

    name: str = DEFAULT_DATASET
    root: str | None = None  # data root; None = the dataset's default location
    imbalance_ratio: float | None = 100.0  # n_max / n_min; None for fixed-profile datasets
    val: str = "split"  # "split": official val or a seeded balanced half of test; "test": papers' protocol
    seed: int = 0  # seed of the val/test split and of any subsampling
    profile: str = "exp"  # imagefolder-lt / cifar: "exp" | "step" | "none"
    download: bool = False  # torchvision download (only when the user asks and is online)
    augment: str = "auto"  # training augmentation (ltsearch.data.augment.AUGMENTS); auto: the data's usual

    @classmethod
    def from_config(cls, cfg: Any) -> "DatasetConfig":
        """A copy of ``cfg`` (any object with these fields)."""
        return cls(**{f.name: getattr(cfg, f.name) for f in fields(cls) if hasattr(cfg, f.name)})

    def check(self) -> None:
        """The checks that need no registry (one line naming the key and the fix)."""
        if self.val not in VAL_MODES:
            raise LTSearchError(f"dataset.val = {self.val!r} is invalid; use 'split' (honest validation) or "
                                f"'test' (the papers' tune-on-test protocol)")
        if self.imbalance_ratio is not None and not float(self.imbalance_ratio) > 1:
            raise LTSearchError(f"dataset.imbalance_ratio = {self.imbalance_ratio!r} is invalid; "
                                f"use an imbalance ratio > 1, e.g. 100")


@dataclass
class ModelConfig:
    name: str = "resnet32"
    init: str = "default"  # "default": the architecture's own init; "authors": the method's code (LORT: PyTorch's)


@dataclass
class MethodConfig:
    name: str = "ce"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimConfig:
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 2e-4
    nesterov: bool = False
    batch_size: int = 64


@dataclass
class ScheduleConfig:
    name: str = "multistep"  # multistep | cosine | constant
    warmup_epochs: float = 5.0  # linear warm-up from lr/warmup_epochs... to lr (papers: 5)
    milestones: list[float] = field(default_factory=lambda: [0.8, 0.9])  # fractions of the run
    gamma: float = 0.1  # multistep decay factor at each milestone


@dataclass
class TrialConfig:
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    epochs: int = 200
    seed: int = 0
    device: str = "auto"  # auto: CUDA if present, else CPU
    amp: bool | str = "auto"  # bf16 autocast (CUDA only); auto: on for ImageNet-scale models (train/device.py)
    channels_last: bool | str = "auto"  # CUDA only; auto: as amp
    compile: bool | str = False  # torch.compile the model: true (mode "default") or a mode of COMPILE_MODES
    eval_every: int = 1  # evaluate on val every N epochs (and always at the last epoch)
    tta_flip: bool = False  # average logits with the flipped image at evaluation (LORT)
    cache_dir: str | None = None  # decoupled methods: stage-1 backbones and stage-2 features reused here

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")

_SECTIONS = {
    "dataset": DatasetConfig,
    "model": ModelConfig,
    "method": MethodConfig,
    "optim": OptimConfig,
    "schedule": ScheduleConfig,
}


def _check_type(where: str, key: str, value: Any, default: Any, annotation: str) -> Any:
    """Coerce ``value`` to the field's type or raise an error naming the key."""
    if value is None:
        if "None" in annotation:
            return None
        raise LTSearchError(f"{where}: '{key}' must not be empty; give a value like {shown(default)}")
    if "dict" in annotation:
        if not isinstance(value, dict):
            raise LTSearchError(f"{where}: '{key}' must be a mapping, got {shown(value)}")
        return dict(value)
    if "list" in annotation:
        if not isinstance(value, (list, tuple)):
            raise LTSearchError(f"{where}: '{key}' must be a list like [0.8, 0.9], got {shown(value)}")
        try:
            return [float(v) for v in value]
        except (TypeError, ValueError):
            raise LTSearchError(f"{where}: '{key}' must be a list of numbers, got {shown(value)}") from None
    base = annotation.split("|")[0].strip()
    if annotation.replace(" ", "") == "bool|str":  # a switch with named settings; validate() checks the names
        if isinstance(value, (bool, str)):
            return value
        names = default if isinstance(default, str) else ", ".join(COMPILE_MODES)  # amp / channels_last: auto
        raise LTSearchError(f"{where}: '{key}' must be true, false or one of: {names}; got {shown(value)}")
    if base == "bool":
        if isinstance(value, bool):
            return value
        raise LTSearchError(f"{where}: '{key}' must be true or false, got {shown(value)}")
    if base == "int":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, float) and value.is_integer())):
            raise LTSearchError(f"{where}: '{key}' must be an integer, got {shown(value)}")
        return int(value)
    if base == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise LTSearchError(f"{where}: '{key}' must be a finite number, got {shown(value)}")
        return float(value)
    if base == "str":
        if not isinstance(value, str):
            raise LTSearchError(f"{where}: '{key}' must be a string, got {shown(value)}")
        return value
    return value


def _build(cls, data: dict, where: str, prefix: str = ""):
    if not isinstance(data, dict):
        raise LTSearchError(f"{where}: '{prefix.rstrip('.') or 'config'}' must be a mapping, got {shown(data)}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known), key=str)
    if unknown:
        raise LTSearchError(
            f"{where}: unknown key '{shown_key(f'{prefix}{unknown[0]}')}'; allowed keys: {', '.join(sorted(known))}"
        )
    kwargs = {}
    for name, f in known.items():
        if name not in data:
            continue
        if name in _SECTIONS and cls is TrialConfig:
            kwargs[name] = _build(_SECTIONS[name], data[name], where, prefix=f"{name}.")
        else:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            kwargs[name] = _check_type(where, prefix + name, data[name], default, str(f.type))
    return cls(**kwargs)


def config_from_dict(data: dict, where: str = "config") -> TrialConfig:
    """Build a validated :class:`TrialConfig`; unknown keys and wrong types name the key."""
    cfg = _build(TrialConfig, data or {}, where)
    validate(cfg, where)
    return cfg


def validate(cfg: TrialConfig, where: str = "config") -> None:
    """Range checks that do not depend on a registry (registries check names and params)."""
    checks = [
        (cfg.epochs >= 1, "epochs", cfg.epochs, "use epochs >= 1"),
        (cfg.optim.lr > 0, "optim.lr", cfg.optim.lr, "use a learning rate > 0"),
        (cfg.optim.weight_decay >= 0, "optim.weight_decay", cfg.optim.weight_decay, "use weight_decay >= 0"),
        (0 <= cfg.optim.momentum < 1, "optim.momentum", cfg.optim.momentum, "use momentum in [0, 1)"),
        (cfg.optim.batch_size >= 1, "optim.batch_size", cfg.optim.batch_size, "use batch_size >= 1"),
        (cfg.schedule.name in LR_SCHEDULES, "schedule.name", cfg.schedule.name,
         f"use one of: {', '.join(LR_SCHEDULES.names())}"),
        (cfg.schedule.warmup_epochs >= 0, "schedule.warmup_epochs", cfg.schedule.warmup_epochs, "use >= 0"),
        (all(0 < m <= 1 for m in cfg.schedule.milestones), "schedule.milestones", cfg.schedule.milestones,
         "give milestones as fractions of the run in (0, 1], e.g. [0.8, 0.9]"),
        (cfg.schedule.gamma > 0, "schedule.gamma", cfg.schedule.gamma, "use a decay factor > 0, e.g. 0.1"),
        (cfg.model.init in MODEL_INITS, "model.init", cfg.model.init, f"use one of: {', '.join(MODEL_INITS)}"),
        (cfg.eval_every >= 1, "eval_every", cfg.eval_every, "use eval_every >= 1"),
        (cfg.device == "auto" or cfg.device == "cpu" or cfg.device.startswith("cuda"), "device", cfg.device,
         "use auto, cpu, cuda or cuda:N"),
        (cfg.amp in (True, False, "auto"), "amp", cfg.amp, "use true, false or auto"),
        (cfg.channels_last in (True, False, "auto"), "channels_last", cfg.channels_last, "use true, false or auto"),
        (cfg.compile in (True, False, *COMPILE_MODES), "compile", cfg.compile,
         f"use true, false or a torch.compile mode: {', '.join(COMPILE_MODES)}"),
        (0 <= cfg.seed <= MAX_SEED, "seed", cfg.seed, "use a seed in [0, 2**32 - 1] (numpy / torch generators)"),
        (0 <= cfg.dataset.seed <= MAX_SEED, "dataset.seed", cfg.dataset.seed, "use a seed in [0, 2**32 - 1]"),
        (cfg.epochs <= MAX_EPOCHS, "epochs", cfg.epochs, f"use at most {MAX_EPOCHS} epochs"),
        (cfg.dataset.imbalance_ratio is None or cfg.dataset.imbalance_ratio <= MAX_IMBALANCE_RATIO,
         "dataset.imbalance_ratio", cfg.dataset.imbalance_ratio, "use an imbalance ratio up to 1e6, e.g. 100"),
    ]
    for ok, key, value, fix in checks:
        if not ok:
            raise LTSearchError(f"{where}: '{key}' = {shown(value)} is invalid; {fix}")
    try:
        cfg.dataset.check()
    except LTSearchError as err:
        raise LTSearchError(f"{where}: {err}") from None
    from ltsearch.data import DATASETS  # here, not above: ltsearch.data reads DatasetConfig from this module

    for key, value, registry in (("model.name", cfg.model.name, MODELS), ("dataset.name", cfg.dataset.name, DATASETS)):
        if value not in registry:
            raise LTSearchError(f"{where}: '{key}' = {shown(value)} is unknown; use one of: {', '.join(registry.names())}")


def load_yaml(path: str | Path) -> dict:
    """Safe-load a YAML mapping; errors name the file and the line."""
    path = Path(path)
    if path.is_dir():
        raise LTSearchError(f"{path}: is a folder; give a YAML file")
    if not path.is_file():
        raise LTSearchError(f"{path}: no such file; check the path")
    try:
        data = safe_load(read_text(path), where=str(path))  # bounded size, depth, aliases
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or "malformed YAML"
        raise LTSearchError(f"{path}: invalid YAML{line}: {problem}; fix the syntax") from None
    except UnicodeDecodeError:
        raise LTSearchError(f"{path}: not a text file; give a YAML file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LTSearchError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    return data


def parse_value(text: str, where: str = "YAML value") -> Any:
    """Parse a command-line value as a YAML 1.2 scalar (safe): 0.1 -> float, true -> bool, off -> "off"."""
    try:
        return safe_load(text, where=where)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict, overrides: list[str], flag: str = "--set") -> dict:
    """Apply ``a.b.c=value`` overrides to a nested dict (returns a copy)."""
    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise LTSearchError(f"{flag} {shown(item)}: expected key=value, e.g. {flag} optim.lr=0.05")
        key, _, text = item.partition("=")
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            raise LTSearchError(f"{flag} {shown(item)}: empty key; use dotted keys like optim.lr=0.05")
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise LTSearchError(f"{flag} {shown(item)}: '{part}' is not a section")
            node = nxt
        node[parts[-1]] = parse_value(text, where=f"{flag} {shown_key(key)}")
    return out


def flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """``{"optim": {"lr": 0.1}} -> {"optim.lr": 0.1}`` (used for MLflow params and tables)."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def unflatten(flat: dict[str, Any]) -> dict:
    out: dict = {}
    for key, v in flat.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = v
    return out


def dump_yaml(data: dict) -> str:
    """Plain YAML (safe_dump: plain data only, keys in config order)."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
