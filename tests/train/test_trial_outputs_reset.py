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
