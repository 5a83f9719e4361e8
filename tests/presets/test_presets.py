"""Paper presets: the one home of the papers' recipes. Every preset names the source of each value,
a search's first trial (the paper point) equals the preset, and each preset's training
transform is what its paper states."""

from __future__ import annotations

import pytest

from ltsearch.config import TrialConfig, config_from_dict, flatten
from ltsearch.methods import get_method
from ltsearch.presets import list_presets, load_preset, paper_params
from ltsearch.search.space import deep_merge, load_space

PRESETS = list_presets()


def resolved(data: dict) -> dict:
    cfg = config_from_dict(data)
    cfg.method.params = get_method(cfg.method.name).resolve(cfg.method.params, dataset=cfg.dataset.name)
    return cfg.to_dict()


def test_every_method_has_presets_on_the_papers_datasets():
    for method in ("ce", "focal", "bs", "la", "cb", "ldam-drw", "kps"):
        for dataset in ("cifar10-lt", "cifar100-lt", "imagenet-lt", "inat2018"):
            assert f"{method}/{dataset}" in PRESETS
    assert {"lort/cifar100-lt", "lort/imagenet-lt", "lort/inat2018", "lwr/cifar100-lt", "lwr/imagenet-lt"} <= set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_first_trial_of_a_search_equals_the_preset(name):
    method, dataset = name.split("/")
    space = load_space(method, dataset=dataset)
    base = space.base_config()
    point = space.paper_point(base)
    active = {d.name for d in space.searched if space.active(d, point)}
    assert set(point) == active, f"{name}: paper value outside the searched range of {active - set(point)}"
    first = resolved(space.config_for(point, base))
    preset = resolved(deep_merge(TrialConfig().to_dict(), load_preset(name)["config"]))
    assert first == preset


@pytest.mark.parametrize("name", PRESETS)
def test_every_paper_value_names_its_source(name):
    preset = load_preset(name)
    keys = flatten(preset["config"])
    assert set(preset["sources"]) <= set(keys), set(preset["sources"]) - set(keys)
    exempt = {"dataset.name", "method.name"}
    if keys.get("dataset.imbalance_ratio") is None:
        exempt.add("dataset.imbalance_ratio")
    if keys.get("schedule.name") != "multistep":
        exempt |= {"schedule.milestones", "schedule.gamma"}
    missing = set(keys) - exempt - set(preset["sources"])
    assert not missing, f"{name}: no source for {sorted(missing)}"


def test_paper_schedules():
    # KPS CIFAR: the paper's x0.01 at 160 and 180 (the authors' code: gamma 0.1); LDAM-DRW the same
    for name in ("kps/cifar10-lt", "kps/cifar100-lt", "ldam-drw/cifar10-lt", "ce/cifar100-lt"):
        s = load_preset(name)["config"]["schedule"]
        assert (s["milestones"], s["gamma"], s["warmup_epochs"]) == ([0.8, 0.9], 0.01, 5)
    # ImageNet-LT / iNat: no warm-up, x0.1 at 120 and 160 of 180, shared by every baseline
    for dataset in ("imagenet-lt", "inat2018"):
        kps = load_preset(f"kps/{dataset}")["config"]
        assert kps["schedule"]["warmup_epochs"] == 0 and kps["epochs"] == 180
        assert [round(m * 180) for m in kps["schedule"]["milestones"]] == [120, 160]
        for base in ("ce", "focal", "bs", "la", "cb", "ldam-drw"):
            cfg = load_preset(f"{base}/{dataset}")["config"]
            assert {k: cfg[k] for k in ("schedule", "optim", "epochs", "model")} == \
                {k: kps[k] for k in ("schedule", "optim", "epochs", "model")}
    # LWR states no warm-up; LORT stage 1 per dataset (App. B / Sec. 5)
    assert all(load_preset(f"lwr/{d}")["config"]["schedule"]["warmup_epochs"] == 0
               for d in ("cifar100-lt", "imagenet-lt"))
    lort = {d: load_preset(f"lort/{d}")["config"]["optim"] for d in ("cifar100-lt", "imagenet-lt", "inat2018")}
    assert [(o["lr"], o["batch_size"]) for o in lort.values()] == [(0.01, 64), (0.03, 128), (0.1, 256)]


def test_method_defaults_read_the_preset():
    assert paper_params("kps", "imagenet-lt")["m_max"] == 0.35
    assert get_method("kps").defaults("inat2018")["m_max"] == 0.3
    assert get_method("kps").defaults("digits-lt")["m_max"] == 0.5  # no preset: the Param default
    assert get_method("lort").defaults("imagenet-lt")["delta"] == 0.99


# the training transform each paper states (torchvision class names, in order)
PAPER_TRANSFORMS = {
    "pad-crop-flip": [("RandomCrop", {"padding": 4}), ("RandomHorizontalFlip", {})],
    "resize-crop-flip": [("Resize", {"size": 256}), ("RandomCrop", {"size": (224, 224)}),
                         ("RandomHorizontalFlip", {})],
    "rrc-flip": [("RandomResizedCrop", {}), ("RandomHorizontalFlip", {})],
    "rrc-flip-jitter": [("RandomResizedCrop", {}), ("RandomHorizontalFlip", {}), ("ColorJitter", {})],
}
PAPER_AUGMENT = {  # KPS Sec. 4.2.1 / 4.2.2, LORT Sec. 5, LWR Sec. 4
    "cifar10-lt": "pad-crop-flip", "cifar100-lt": "pad-crop-flip",
    "kps/imagenet-lt": "resize-crop-flip", "kps/inat2018": "resize-crop-flip",
    "lort/imagenet-lt": "rrc-flip-jitter", "lort/inat2018": "rrc-flip", "lwr/imagenet-lt": "rrc-flip-jitter",
}


@pytest.mark.parametrize("name", PRESETS)
def test_each_presets_training_transform_is_its_papers(name):
    from ltsearch.data.augment import resolve_augment
    from ltsearch.data.base import DATASETS
    from ltsearch.data.loader import file_transforms

    cfg = load_preset(name)["config"]
    dataset, augment = cfg["dataset"]["name"], cfg["dataset"]["augment"]
    paper = load_preset(f"kps/{dataset}" if name.split("/")[0] not in ("kps", "lort", "lwr") else name)
    assert augment == PAPER_AUGMENT.get(dataset) or augment == PAPER_AUGMENT[f"{paper['config']['method']['name']}/{dataset}"]
    kind = DATASETS.get(dataset).kind
    assert resolve_augment(augment, kind, dataset) == augment
    size = 32 if kind == "tensor" else 224
    steps = file_transforms(True, size, (0.5,) * 3, (0.5,) * 3, augment).transforms[:-2]  # less ToTensor, Normalize
    want = PAPER_TRANSFORMS[augment]
    assert [type(t).__name__ for t in steps] == [n for n, _ in want]
    for t, (_, attrs) in zip(steps, want):
        for k, v in attrs.items():
            assert getattr(t, k) == v
    if augment == "rrc-flip-jitter":
        assert steps[2].brightness == (0.6, 1.4) and steps[2].hue is None


def test_presets_cli_list_and_show():
    import json

    from typer.testing import CliRunner

    from ltsearch.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["presets", "list", "--json"])
    assert res.exit_code == 0, res.output
    names = [r["name"] for r in json.loads(res.stdout)]
    assert names == PRESETS
    res = runner.invoke(app, ["presets", "show", "ce/imagenet-lt", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert set(info["config"]) == set(TrialConfig().to_dict())  # every section
    assert info["inherit"] == "kps/imagenet-lt" and info["config"]["epochs"] == 180
    assert info["config"]["schedule"]["warmup_epochs"] == 0 and "Table 2" in info["sources"]["optim.lr"]
    res = runner.invoke(app, ["presets", "show", "kps/cifar10-lt"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "decay ratio 0.01" in res.output and "schedule.gamma" in res.output
    res = runner.invoke(app, ["presets", "show", "kps/mnist"])
    assert res.exit_code == 2 and "kps/mnist" in res.output and "\n" not in res.output.strip()
