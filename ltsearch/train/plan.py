"""What a trial will run, without running it (plain Python: no torch).

``resolve_config`` checks a trial config and fills the method's knobs; ``planned_epochs`` counts
the epochs of its stages (ASHA's ``max_t``, the search's budgets). The search checks its flags
with these before any heavy import.
"""

from __future__ import annotations

from ltsearch.config import TrialConfig, config_from_dict
from ltsearch.methods import get_method


def resolve_config(config: dict | TrialConfig) -> tuple[TrialConfig, dict]:
    """Validated config and the method's full parameter dict (defaults filled in)."""
    cfg = config if isinstance(config, TrialConfig) else config_from_dict(config)
    params = get_method(cfg.method.name).resolve(cfg.method.params, dataset=cfg.dataset.name)
    cfg.method.params = params
    return cfg, params


def planned_epochs(config: dict | TrialConfig) -> int:
    """Total epochs over all stages still to run (ASHA's ``max_t``)."""
    cfg, params = resolve_config(config)
    return sum(get_method(cfg.method.name).stage_epochs(cfg, params))


__all__ = ["resolve_config", "planned_epochs"]
