"""The trial config (``ltsearch/config.py``): its defaults, strict building from a dict (errors name
the key), ``--set`` overrides, and the YAML round trip of a config."""

from __future__ import annotations

import dataclasses

import pytest

from ltsearch.config import (
    DEFAULT_DATASET,
    VAL_MODES,
    TrialConfig,
    apply_overrides,
    config_from_dict,
    dump_yaml,
    flatten,
    load_yaml,
    unflatten,
)
from ltsearch.errors import LTSearchError
from ltsearch.yamlio import safe_load

DEFAULTS = {
    "dataset": {"name": "digits-lt", "root": None, "imbalance_ratio": 100.0, "val": "split", "seed": 0,
                "profile": "exp", "download": False, "augment": "auto"},
    "model": {"name": "resnet32", "init": "default"},
    "method": {"name": "ce", "params": {}},
    "optim": {"lr": 0.1, "momentum": 0.9, "weight_decay": 2e-4, "nesterov": False, "batch_size": 64},
    "schedule": {"name": "multistep", "warmup_epochs": 5.0, "milestones": [0.8, 0.9], "gamma": 0.1},
    "epochs": 200, "seed": 0, "device": "auto", "amp": "auto", "channels_last": "auto", "compile": False,
    "eval_every": 1, "tta_flip": False, "cache_dir": None,
}


def test_defaults():
    assert DEFAULT_DATASET == "digits-lt" and VAL_MODES == ("split", "test")
    assert TrialConfig().to_dict() == DEFAULTS
    assert list(TrialConfig().to_dict()) == list(DEFAULTS)  # the order a dumped config is written in
    assert config_from_dict({}) == TrialConfig() == config_from_dict(None)
    # a section given in part keeps the defaults of the rest
    cfg = config_from_dict({"optim": {"lr": 0.05}, "schedule": {"milestones": [0.5]}})
    assert cfg.to_dict() == {**DEFAULTS, "optim": {**DEFAULTS["optim"], "lr": 0.05},
                             "schedule": {**DEFAULTS["schedule"], "milestones": [0.5]}}


def test_values_are_coerced_to_the_fields_types():
    cfg = config_from_dict({"epochs": 3.0, "optim": {"lr": 1, "batch_size": 128.0}, "schedule": {"milestones": (1, 0.5)},
                            "dataset": {"imbalance_ratio": 10, "root": None}, "cache_dir": None})
    assert (cfg.epochs, type(cfg.epochs)) == (3, int)
    assert (cfg.optim.lr, type(cfg.optim.lr)) == (1.0, float)
    assert (cfg.optim.batch_size, type(cfg.optim.batch_size)) == (128, int)
    assert cfg.schedule.milestones == [1.0, 0.5] and all(type(m) is float for m in cfg.schedule.milestones)
    assert cfg.dataset.imbalance_ratio == 10.0 and cfg.dataset.root is None and cfg.cache_dir is None


@pytest.mark.parametrize("data, message", [
    ({"epoch": 3}, "run.yaml: unknown key 'epoch'; allowed keys: amp, cache_dir, channels_last, compile, dataset, "
                   "device, epochs, eval_every, method, model, optim, schedule, seed, tta_flip"),
    ({"optim": {"learning_rate": 0.1}}, "run.yaml: unknown key 'optim.learning_rate'; allowed keys: batch_size, "
                                        "lr, momentum, nesterov, weight_decay"),
    ({"optim": 3}, "run.yaml: 'optim' must be a mapping, got 3"),
    ({"optim": {"lr": "fast"}}, "run.yaml: 'optim.lr' must be a finite number, got 'fast'"),
    ({"optim": {"lr": float("nan")}}, "run.yaml: 'optim.lr' must be a finite number, got nan"),
    ({"optim": {"lr": None}}, "run.yaml: 'optim.lr' must not be empty; give a value like 0.1"),
    ({"epochs": True}, "run.yaml: 'epochs' must be an integer, got True"),
    ({"epochs": 2.5}, "run.yaml: 'epochs' must be an integer, got 2.5"),
    ({"amp": "yes"}, "run.yaml: 'amp' = 'yes' is invalid; use true, false or auto"),
    ({"amp": 1}, "run.yaml: 'amp' must be true, false or one of: auto; got 1"),
    ({"compile": 3}, "run.yaml: 'compile' must be true, false or one of: default, reduce-overhead, max-autotune, "
                     "max-autotune-no-cudagraphs; got 3"),
    ({"channels_last": "on"}, "run.yaml: 'channels_last' = 'on' is invalid; use true, false or auto"),
    ({"compile": "fast"}, "run.yaml: 'compile' = 'fast' is invalid; use true, false or a torch.compile mode: default, "
                          "reduce-overhead, max-autotune, max-autotune-no-cudagraphs"),
    ({"device": 0}, "run.yaml: 'device' must be a string, got 0"),
    ({"method": {"params": [1]}}, "run.yaml: 'method.params' must be a mapping, got [1]"),
    ({"schedule": {"milestones": 0.8}}, "run.yaml: 'schedule.milestones' must be a list like [0.8, 0.9], got 0.8"),
    ({"schedule": {"milestones": ["a"]}}, "run.yaml: 'schedule.milestones' must be a list of numbers, got ['a']"),
])
def test_wrong_keys_and_types_name_the_key(data, message):
    with pytest.raises(LTSearchError) as err:
        config_from_dict(data, where="run.yaml")
    assert str(err.value) == message


@pytest.mark.parametrize("data, key, value, fix", [
    ({"epochs": 0}, "epochs", "0", "use epochs >= 1"),
    ({"epochs": 100_001}, "epochs", "100001", "use at most 100000 epochs"),
    ({"optim": {"lr": 0}}, "optim.lr", "0.0", "use a learning rate > 0"),
    ({"optim": {"momentum": 1.0}}, "optim.momentum", "1.0", "use momentum in [0, 1)"),
    ({"optim": {"weight_decay": -1e-4}}, "optim.weight_decay", "-0.0001", "use weight_decay >= 0"),
    ({"optim": {"batch_size": 0}}, "optim.batch_size", "0", "use batch_size >= 1"),
    ({"schedule": {"milestones": [0.8, 1.5]}}, "schedule.milestones", "[0.8, 1.5]",
     "give milestones as fractions of the run in (0, 1], e.g. [0.8, 0.9]"),
    ({"schedule": {"gamma": 0}}, "schedule.gamma", "0.0", "use a decay factor > 0, e.g. 0.1"),
    ({"schedule": {"warmup_epochs": -1}}, "schedule.warmup_epochs", "-1.0", "use >= 0"),
    ({"seed": 2**32}, "seed", str(2**32), "use a seed in [0, 2**32 - 1] (numpy / torch generators)"),
    ({"eval_every": 0}, "eval_every", "0", "use eval_every >= 1"),
    ({"device": "tpu"}, "device", "'tpu'", "use auto, cpu, cuda or cuda:N"),
    ({"model": {"init": "kaiming"}}, "model.init", "'kaiming'", "use one of: default, authors"),
])
def test_out_of_range_values_name_the_key_the_value_and_the_fix(data, key, value, fix):
    with pytest.raises(LTSearchError) as err:
        config_from_dict(data)
    assert str(err.value) == f"config: '{key}' = {value} is invalid; {fix}"


def test_names_checked_against_the_registries():
    with pytest.raises(LTSearchError, match=r"^config: 'schedule.name' = 'step' is invalid; use one of: .*cosine"):
        config_from_dict({"schedule": {"name": "step"}})
    with pytest.raises(LTSearchError, match=r"^config: 'model.name' = 'resnet9' is unknown; use one of: .*resnet8"):
        config_from_dict({"model": {"name": "resnet9"}})
    with pytest.raises(LTSearchError, match=r"^config: 'dataset.name' = 'mnist' is unknown; use one of: .*digits-lt"):
        config_from_dict({"dataset": {"name": "mnist"}})
    with pytest.raises(LTSearchError, match=r"^config: dataset.val = 'holdout' is invalid; use 'split'"):
        config_from_dict({"dataset": {"val": "holdout"}})
    with pytest.raises(LTSearchError, match=r"^config: dataset.imbalance_ratio = 1.0 is invalid; use an imbalance"):
        config_from_dict({"dataset": {"imbalance_ratio": 1}})


def test_apply_overrides_sets_nested_keys_as_yaml_1_2_scalars():
    base = {"optim": {"lr": 0.1}, "method": {"name": "kps"}}
    out = apply_overrides(base, ["optim.lr=1e-4", "method.params.ga=off", "schedule.milestones=[0.5, 0.75]",
                                 "cache_dir=null", "amp=false", "epochs=3", "epochs=4"])
    assert out == {"optim": {"lr": 0.0001}, "method": {"name": "kps", "params": {"ga": "off"}},
                   "schedule": {"milestones": [0.5, 0.75]}, "cache_dir": None, "amp": False, "epochs": 4}
    assert base == {"optim": {"lr": 0.1}, "method": {"name": "kps"}}  # a copy: the input is untouched
    assert apply_overrides({}, ["device= cuda:1"]) == {"device": "cuda:1"}
    assert apply_overrides({"dataset": None}, ["dataset.name=cifar10-lt"]) == {"dataset": {"name": "cifar10-lt"}}


@pytest.mark.parametrize("item, message", [
    ("optim.lr", "--set 'optim.lr': expected key=value, e.g. --set optim.lr=0.05"),
    ("=0.05", "--set '=0.05': empty key; use dotted keys like optim.lr=0.05"),
    ("optim..lr=0.05", "--set 'optim..lr=0.05': empty key; use dotted keys like optim.lr=0.05"),
    ("epochs.x=1", "--set 'epochs.x=1': 'epochs' is not a section"),
])
def test_apply_overrides_errors_name_the_item(item, message):
    with pytest.raises(LTSearchError) as err:
        apply_overrides({"epochs": 2}, [item])
    assert str(err.value) == message
    with pytest.raises(LTSearchError) as err:
        apply_overrides({"epochs": 2}, [item], flag="--fix")
    assert str(err.value) == message.replace("--set", "--fix")


def test_an_override_of_an_unknown_key_is_refused_by_the_config_naming_it():
    data = apply_overrides({}, ["optim.lrr=0.1"])
    with pytest.raises(LTSearchError, match=r"^--set: unknown key 'optim.lrr'; allowed keys: batch_size, lr"):
        config_from_dict(data, where="--set")


def test_dump_yaml_round_trip(tmp_path):
    data = {"dataset": {"name": "cifar10-lt", "imbalance_ratio": 50, "val": "test", "root": "data/cifar"},
            "model": {"name": "resnet8"},
            "method": {"name": "kps", "params": {"ga": "off", "margins": "code", "m_max": 0.3}},
            "optim": {"lr": 1e-4, "nesterov": True},
            "schedule": {"name": "cosine", "milestones": []},
            "epochs": 3, "device": "cuda:1", "cache_dir": None, "tta_flip": True}
    cfg = config_from_dict(data)
    text = dump_yaml(cfg.to_dict())
    assert list(safe_load(text)) == [f.name for f in dataclasses.fields(TrialConfig)]  # config order, not sorted
    assert config_from_dict(safe_load(text)) == cfg
    (tmp_path / "c.yaml").write_text(text)
    again = config_from_dict(load_yaml(tmp_path / "c.yaml"), where="c.yaml")
    assert again == cfg and again.method.params["ga"] == "off" and again.optim.lr == 1e-4
    assert dump_yaml(again.to_dict()) == text


def test_flatten_and_unflatten():
    data = {"optim": {"lr": 0.1, "nesterov": False}, "method": {"name": "ce", "params": {}}, "epochs": 2}
    flat = flatten(data)
    assert flat == {"optim.lr": 0.1, "optim.nesterov": False, "method.name": "ce", "method.params": {}, "epochs": 2}
    assert unflatten(flat) == data
    assert unflatten(flatten(TrialConfig().to_dict())) == TrialConfig().to_dict()


def test_load_yaml_errors_name_the_file(tmp_path):
    with pytest.raises(LTSearchError, match="missing.yaml: no such file"):
        load_yaml(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("epochs: 2\noptim: [1,\n")
    with pytest.raises(LTSearchError, match=r"bad.yaml: invalid YAML \(line \d+\)"):
        load_yaml(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(LTSearchError, match="list.yaml: top level must be a mapping of keys, got list"):
        load_yaml(tmp_path / "list.yaml")
    (tmp_path / "empty.yaml").write_text("")
    assert load_yaml(tmp_path / "empty.yaml") == {}
