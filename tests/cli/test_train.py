"""`ltsearch train`, `datasets` and `inspect` through the real CLI (typer's CliRunner)."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from typer.testing import CliRunner

from ltsearch.cli.main import app

from ..helpers import tiny_config

runner = CliRunner()


def test_train_from_config_writes_outputs_and_prints_the_table(tmp_path):
    cfg = tmp_path / "ce.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config("ce", epochs=2)))
    out = tmp_path / "run"
    res = runner.invoke(app, ["train", "--config", str(cfg), "--output", str(out), "--set", "optim.lr=0.04"])
    assert res.exit_code == 0, res.output
    assert "overall" in res.output and "test" in res.output
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["optim"]["lr"] == 0.04
    assert (out / "per_class.csv").is_file()


def test_train_unknown_key_is_one_line_exit_2_and_writes_nothing(tmp_path):
    data = tiny_config("ce")
    data["optim"]["learning_rate"] = 0.1
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    res = runner.invoke(app, ["train", "--config", str(cfg), "--output", str(out)])
    assert res.exit_code == 2
    assert "optim.learning_rate" in res.output and "Traceback" not in res.output
    assert not out.exists()


def test_train_bad_method_param_names_range(tmp_path):
    cfg = tmp_path / "kps.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config("kps", m_max=-0.1)))
    res = runner.invoke(app, ["train", "--config", str(cfg), "--output", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "m_max" in res.output and "[0, 2]" in res.output


def test_train_preset_with_overrides(tmp_path):
    out = tmp_path / "p"
    res = runner.invoke(app, ["train", "--preset", "kps/cifar10-lt", "--epochs", "1", "--output", str(out),
                              "--set", "dataset.name=digits-lt", "--set", "model.name=resnet8",
                              "--set", "device=cpu", "--set", "schedule.warmup_epochs=0"])
    assert res.exit_code == 0, res.output
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["method"]["params"]["m_max"] == 0.5 and saved["epochs"] == 1


def test_datasets_show_cifar_counts_json():
    res = runner.invoke(app, ["datasets", "show", "cifar10-lt", "--imbalance-ratio", "100", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["train_counts"] == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    res = runner.invoke(app, ["datasets", "show", "cifar100-lt", "--imbalance-ratio", "100", "--json"])
    info = json.loads(res.output)
    assert sum(info["train_counts"]) == 10847 and info["train_counts"][0] == 500 and info["train_counts"][-1] == 5


def test_datasets_show_names_classes_in_their_own_column_only_when_they_have_names():
    cifar = runner.invoke(app, ["datasets", "show", "cifar10-lt", "--imbalance-ratio", "100"]).output
    assert re.search(r"│ +0 │ airplane +│ +5000 │ many", cifar), cifar
    digits = runner.invoke(app, ["datasets", "show", "digits-lt"]).output
    assert "name" not in digits.split("┃ class ┃")[1].splitlines()[0] and re.search(r"│ +0 │ +120 │ many", digits), digits


def test_inspect_kps_json_has_the_four_lists():
    res = runner.invoke(app, ["inspect", "kps", "--dataset", "cifar10-lt", "--imbalance-ratio", "100", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"r", "m", "m_prime", "s"}
    assert min(out["r"]) == 1.0 and max(out["m"]) == 0.5
    assert out["m"][-1] == 0.5  # the tail class gets the largest margin


@pytest.mark.slow
@pytest.mark.cifar
def test_train_ce_on_real_cifar10_lt(cifar10_root, tmp_path):
    """`ltsearch train` on CIFAR-10-LT IR100 from the shared JPEG tree (one ResNet-8 epoch)."""
    out = tmp_path / "cifar"
    res = runner.invoke(app, ["train", "--preset", "kps/cifar10-lt", "--data-root", str(cifar10_root),
                              "--epochs", "1", "--output", str(out), "--set", "method.name=ce", "--set", "method.params={}",
                              "--set", "model.name=resnet8", "--set", "optim.batch_size=128"])
    assert res.exit_code == 0, res.output
    result = json.loads((out / "result.json").read_text())
    assert result["test/acc"] > 15.0 and result.get("test/few") is None  # CIFAR-10-LT has no few-shot class


def test_data_root_is_a_path_never_yaml(tmp_path):
    """`--data-root '/data/set #2'` is that folder: as a YAML value it lost its ' #2' (a comment)."""
    res = runner.invoke(app, ["train", "--preset", "kps/cifar10-lt", "--data-root", str(tmp_path / "set #2"),
                              "--epochs", "1", "--output", str(tmp_path / "out")])
    assert res.exit_code == 2 and "set #2 does not exist" in res.output, res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("given_output", [True, False])
def test_train_interrupted_says_how_to_resume(tmp_path, monkeypatch, given_output):
    """Ctrl-C in a train run: exit 130 and the command that resumes it (a default output folder is
    timestamped, so a plain rerun would start over elsewhere: the message names the folder)."""
    import ltsearch.train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ltsearch.train, "run_trial", interrupted)
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "ce.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config("ce", epochs=2)))
    res = runner.invoke(app, ["train", "--config", str(cfg)] + (["--output", "run"] if given_output else []))
    said = " ".join(res.output.split())
    assert res.exit_code == 130, res.output
    if given_output:
        assert "stopped: rerun the same command to resume" in said
    else:
        folder = re.search(r"--output (\S+) to resume", said).group(1)
        assert folder.startswith("trials/train/ce-digits-lt-"), said


def test_train_into_a_folder_of_another_config_refuses_before_any_progress(tmp_path):
    """The refusal comes first: no header, no empty `0/N` progress bar, the folder unchanged; the same
    config resumes there and says from where."""
    cfg = tmp_path / "ce.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config("ce", epochs=2)))
    out = tmp_path / "run"
    assert runner.invoke(app, ["train", "--config", str(cfg), "--output", str(out)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = runner.invoke(app, ["train", "--config", str(cfg), "--output", str(out), "--set", "optim.lr=0.05"])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("error:") and "holds a run of another config" in res.output, res.output
    assert "0/2" not in res.output and "epochs" not in res.output.split("error:")[0], res.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    again = runner.invoke(app, ["train", "--config", str(cfg), "--output", str(out)])
    assert again.exit_code == 0 and "resuming after epoch 2" in " ".join(again.output.split()), again.output


def test_train_seeds_checks_every_seed_folder_before_training_any(tmp_path):
    """`--seeds 0,1` into a folder whose seed1 holds another config's run: refused before seed 0 trains."""
    cfg = tmp_path / "ce.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config("ce", epochs=2)))
    out = tmp_path / "final"
    other = runner.invoke(app, ["train", "--config", str(cfg), "--output", str(out / "seed1"), "--epochs", "1"])
    assert other.exit_code == 0, other.output
    res = runner.invoke(app, ["train", "--config", str(cfg), "--output", str(out), "--seeds", "0,1",
                              "--tracking-uri", str(tmp_path / "mlflow.db")])
    assert res.exit_code == 2 and "seed1 holds a run of another config" in res.output, res.output
    assert not (out / "seed0").exists() and not (tmp_path / "mlflow.db").exists()


def test_confirm_help_gives_sh_default_reduction_factor():
    """`confirm --help` explains why lower-rung configs follow with sh's default (keep 1 in 4), not an old one."""
    from ltsearch.search.request import REDUCTION_FACTORS

    res = runner.invoke(app, ["confirm", "--help"], env={"COLUMNS": "200"})
    text = " ".join(res.output.split())
    assert res.exit_code == 0 and f"sh keeps 1 in {REDUCTION_FACTORS['sh']:g} at each rung" in text, text
