"""Short, distinct MLflow run names (the UI cuts long names to their first ~20 characters).

Scheme: a search's parent run is the search name; its trials are ``t00``, ``t01``, ... in the
order they started (three digits past 99 trials); a trial the scheduler stopped early is renamed
``t03 stopped@e4`` (the epoch it reached); a final run of ``ltsearch train --seeds`` is
``<method>-s<seed>``, or ``<method>-t03-s<seed>`` when its config was exported from trial
``t03`` (the ``ltsearch:`` provenance block).
"""

from __future__ import annotations

import re

_COUNTER = re.compile(r"_(\d+)$")


def trial_index(trial_id: str) -> int | None:
    """Tune's trial counter: ``3`` for ``'a1b2c_00003'`` (None when the id has none)."""
    m = _COUNTER.search(str(trial_id))
    return int(m.group(1)) if m else None


def trial_run_name(trial_id: str, status: str | None = None, epochs: int | None = None,
                   index: int | None = None) -> str:
    """``t03`` for the search's fourth trial: ``index`` (the recorder's count of trial runs
    already under the parent, i.e. start order), else Tune's counter of ``a1b2c_00003``
    (Optuna-sampled trials have plain hex ids: give ``index``), else the id's last 6
    characters. ``t03 stopped@e4`` for a scheduler-stopped trial that reached epoch 4."""
    idx = index if index is not None else trial_index(trial_id)
    name = (f"t{idx:02d}" if idx < 100 else f"t{idx:03d}") if idx is not None else f"t-{str(trial_id)[-6:]}"
    return with_status(name, status, epochs)


def with_status(name: str, status: str | None, epochs: int | None = None) -> str:
    """``t03`` -> ``t03 stopped@e4`` (status ``stopped``) or ``t03 failed``; other statuses keep it."""
    name = name.split(" ")[0]
    if status == "stopped":
        return name + (f" stopped@e{int(epochs)}" if epochs is not None else " stopped")
    if status == "failed":
        return name + " failed"
    return name


def final_run_name(method: str, seed: int, source_trial: str | None = None) -> str:
    """``kps-s1``; ``kps-t03-s1`` when the config came from trial run ``t03``."""
    if source_trial:
        short = source_trial.split(" ")[0]
        return f"{method}-{short}-s{seed}"
    return f"{method}-s{seed}"


UI_QUERY = "?workflowType=machine_learning"  # MLflow 3.17's UI: the "Model training" view (runs table)


def ui_url(server: str, experiment_id: str, run_id: str | None = None, tab: str | None = None) -> str:
    """The MLflow UI address of an experiment's runs table (or of a run, ``tab`` e.g.
    ``"artifacts"``), in the UI's model-training view: MLflow 3.17 otherwise opens an
    experiment on its GenAI overview (a per-browser switch; the experiment tag is not read).

    >>> ui_url("http://127.0.0.1:5000", "1")
    'http://127.0.0.1:5000/#/experiments/1/runs?workflowType=machine_learning'
    """
    base = f"{server.rstrip('/')}/#/experiments/{experiment_id}"
    if run_id is None:
        return f"{base}/runs{UI_QUERY}"
    return f"{base}/runs/{run_id}{'/' + tab if tab else ''}{UI_QUERY}"


STOPPED_RUN_STATUS = "KILLED"  # MLflow status of a scheduler-stopped trial: a distinct icon in the runs table


def mark_stopped(writer, run_id: str, trial_id: str, epochs: int | None) -> str:
    """Rename a scheduler-stopped trial's run ``t03`` to ``t03 stopped@e4``; returns the MLflow status to end
    it with (``KILLED``, shown apart from completed runs; ``ltsearch.status`` stays the record)."""
    current = writer.client.get_run(run_id).info.run_name or trial_run_name(trial_id)
    writer.client.update_run(run_id, name=with_status(current, "stopped", epochs))
    return STOPPED_RUN_STATUS
