"""A trial that starts over (no resume, or no usable checkpoint) keeps no epoch of an earlier run."""

from __future__ import annotations

import json

from ltsearch.config import config_from_dict
from ltsearch.train import run_trial

from ..helpers import tiny_config


def test_metrics_file_holds_only_the_run_that_wrote_it(tmp_path, digits):
    out = tmp_path / "t"
    run_trial(config_from_dict(tiny_config(epochs=3)), out_dir=str(out), data=digits)
    run_trial(config_from_dict(tiny_config(epochs=2)), out_dir=str(out), resume=False, data=digits)
    epochs = [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2]  # the first run's epoch 3 does not linger


def test_a_checkpoint_resumes_only_the_run_of_its_config(tmp_path, digits):
    """Another --epochs into the same folder never continues the old run (it reported the old run's
    epochs under the new config.yaml): refused, the folder unchanged; the same config resumes."""
    import pytest

    from ltsearch.errors import LTSearchError

    out = tmp_path / "t"
    first = run_trial(config_from_dict(tiny_config(epochs=2)), out_dir=str(out), data=digits)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    other = tiny_config(epochs=3)
    with pytest.raises(LTSearchError, match=r"holds a run of another config \(epochs 2 there, 3 now\)"):
        run_trial(config_from_dict(other), out_dir=str(out), data=digits)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    moved = {**tiny_config(epochs=2), "eval_every": 1, "tta_flip": False}  # runtime keys may change
    again = run_trial(config_from_dict(moved), out_dir=str(out), data=digits)
    assert again["epochs_run"] == first["epochs_run"] == 2
