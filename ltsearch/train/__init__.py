"""The trial pipeline: ``run_trial(config, report=None, out_dir=None, resume=True, data=None)``."""

from ltsearch.train.schedules import lr_at
from ltsearch.train.trial import planned_epochs, resolve_config, run_trial

__all__ = ["run_trial", "planned_epochs", "resolve_config", "lr_at"]
