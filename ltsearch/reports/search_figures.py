"""``ltsearch figures``: draw, after a search, the trial figures it did not draw while it ran.

A search draws every run's figures as it finishes only when the machine has a CPU to spare
(``--figures auto``; bench P1); otherwise only its best run's, at the end. This draws the others
from the trial folders (``<storage>/<name>/trials/<run id>``) into the runs' MLflow artifacts.
"""

from __future__ import annotations

from pathlib import Path

from ltsearch.errors import LTSearchError
from ltsearch.search.state import RunRecord, SearchState
from ltsearch.tracking.artifacts import has_figures, log_trial_figures
from ltsearch.tracking.writer import TrackingWriter

DRAWABLE = ("completed", "stopped", "failed")  # runs whose folder is final


def runs_to_draw(state: SearchState, trials: list[str] | None) -> list[RunRecord]:
    """The runs named by ``--trial`` (run ids ``t003``, ``t003-r1``, or a config id ``t003`` for
    all its rungs), else every finished run of the search."""
    runs = state.ordered()
    if not trials:
        return [r for r in runs if r.status in DRAWABLE]
    unknown = [t for t in trials if not any(t in (r.id, r.config_id) for r in runs)]
    if unknown:
        known = ", ".join(r.id for r in runs[:6]) + (", ..." if len(runs) > 6 else "")
        raise LTSearchError(f"--trial {unknown[0]}: search '{state.name}' has no such run; its runs are {known}")
    return [r for r in runs if r.id in trials or r.config_id in trials]


def draw_search_figures(folder: Path, tracking_uri: str, trials: list[str] | None = None,
                        redraw: bool = False) -> list[tuple[str, list[str]]]:
    """Draw and log the figures of a search's runs; returns ``(run id, artifacts logged)`` per run
    (an empty list: it had its figures already, or its folder holds nothing to draw)."""
    state = SearchState.load(folder)
    if state is None:
        raise LTSearchError(f"{folder}: no ltsearch search there; check --name and --storage-path "
                            f"(`ltsearch searches` lists the searches of a store)")
    chosen = runs_to_draw(state, trials)
    writer = TrackingWriter(tracking_uri)
    if state.parent_run_id is not None:
        try:
            writer.client.get_run(state.parent_run_id)
        except Exception:
            raise LTSearchError(f"search '{state.name}' is not in the MLflow store {writer.uri}; give the "
                                f"--tracking-uri it ran with") from None
    out = []
    for rec in chosen:
        trial_dir = folder / "trials" / rec.id
        if rec.run_id is None or trial_dir.is_symlink() or not trial_dir.is_dir():
            out.append((rec.id, []))
        elif not redraw and has_figures(writer, rec.run_id):
            out.append((rec.id, []))
        else:
            out.append((rec.id, log_trial_figures(writer, rec.run_id, trial_dir, confusion_csv=False)))
    return out
