"""The search's own record of its trials: plain JSON, the only resume state.

``<storage>/<name>/search.json`` lists every run the search dispatched (config id, Optuna trial
number, sampled values, budget, rung, status, objective). A resumed search reads it back with
``json.loads`` (data, never code: Tune's pickled ``tuner.pkl`` is never read), re-dispatches the
runs that were pending or running, and continues. Every write is atomic (a temporary file
created exclusively in the same folder, then ``os.replace``), so a kill at any moment leaves the
previous or the next version, never half of one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ltsearch.errors import LTSearchError
from ltsearch.fileio import write_atomic

STATE_FILE = "search.json"
VERSION = 1


@dataclass
class RunRecord:
    """One dispatched training run: a config (``config_id``) at one budget (``rung``)."""

    id: str  # "t003" (first rung) / "t003-r1" (sh: the same config at rung 1)
    config_id: str  # "t003": the config, one Optuna trial
    number: int | None  # Optuna trial number (None: no study, e.g. a failed sampler)
    values: dict  # sampled values {dim name: value}
    budget: int  # planned epochs of this run (all stages)
    rung: int = 0
    status: str = "pending"  # pending | running | completed | stopped | failed
    objective: float | None = None  # best-epoch value of the search metric
    epochs: int = 0  # epochs trained (the last reported epoch)
    tune_ids: list = field(default_factory=list)  # Ray Tune trial ids that ran it (one per session)
    run_id: str | None = None  # MLflow run id
    failure: str | None = None
    final: dict = field(default_factory=dict)  # final metrics (test/*, best/*, epochs_run)
    promoted: bool = False  # sh: selected for the next rung
    bracket: int = 0  # sh: the group of configs it was drawn in


LEGACY_REDUCTION_FACTOR = 3.0  # the reduction factor of a state saved before it was recorded


@dataclass
class SearchState:
    """Everything a search needs to continue after any kill (see the module docstring)."""

    name: str
    method: str
    experiment: str
    scheduler: str
    configs: int  # configs to sample (--trials, or the grid's size)
    budgets: list  # sh: the rung budgets; otherwise [full budget]
    brackets: int = 1  # sh: consecutive groups of configs (see ltsearch.search.dispatch)
    # keep 1 in this many at each rung, fixed at the start (a resume keeps it); None: a state saved before
    # it was recorded, when every scheduler's default was 3
    reduction_factor: float | None = None
    decided: list = field(default_factory=list)  # sh: "bracket:rung" whose promotions are made
    # the search-shaping flags it started with (ltsearch.search.resume.SHAPING -> value), which a resume
    # takes where its command line does not give them; None: a state saved before they were recorded
    request: dict | None = None
    study: str | None = None
    parent_run_id: str | None = None
    status: str = "running"  # running | stopped | completed
    sessions: int = 0  # driver sessions that worked on it (1 + resumes)
    runs: dict = field(default_factory=dict)  # id -> RunRecord
    version: int = VERSION

    # ---- queries --------------------------------------------------------------------
    def ordered(self) -> list[RunRecord]:
        return sorted(self.runs.values(), key=lambda r: (r.rung, r.id))

    def config_ids(self) -> list[str]:
        return sorted({r.config_id for r in self.runs.values()})

    def latest(self) -> dict[str, RunRecord]:
        """Each config's run at the highest rung it reached."""
        out: dict[str, RunRecord] = {}
        for r in self.ordered():
            out[r.config_id] = r
        return out

    def config_status(self, rec: RunRecord) -> str:
        """What became of ``rec``'s config: pending | running | completed (its full budget) |
        stopped (early: by ASHA or not promoted by sh) | failed."""
        if rec.status in ("pending", "running", "failed", "stopped"):
            return rec.status
        last_rung = len(self.budgets) - 1 if self.scheduler == "sh" else 0
        if rec.rung >= last_rung:
            return "completed"
        decided = self.status != "running" or f"{rec.bracket}:{rec.rung}" in self.decided
        return "stopped" if decided and not rec.promoted else "running"

    def epochs_consumed(self) -> int:
        """Training epochs run by every run of the search, every rung counted."""
        return int(sum(r.epochs for r in self.runs.values()))

    def add(self, rec: RunRecord) -> RunRecord:
        self.runs[rec.id] = rec
        return rec

    # ---- disk -----------------------------------------------------------------------
    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=1, sort_keys=True, allow_nan=False, default=str)

    def save(self, folder: Path) -> None:
        write_atomic(Path(folder) / STATE_FILE, self.to_json())

    @classmethod
    def load(cls, folder: Path) -> "SearchState | None":
        path = Path(folder) / STATE_FILE
        if path.is_symlink():
            raise LTSearchError(f"{path}: is a symbolic link; a search's state must be a plain file")
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
            runs = {k: _build(RunRecord, v) for k, v in data.pop("runs").items()}
            state = _build(cls, data)
            state.runs = runs
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise LTSearchError(f"{path}: unreadable search state ({str(err)[:80]}); start a new search with "
                                f"another --name") from None
        return state


def _build(cls, data: dict):
    if not isinstance(data, dict):
        raise TypeError(f"expected a mapping for {cls.__name__}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def inside(path: Path, root: Path) -> Path | None:
    """``path`` if it is a regular file inside ``root`` without following a symlink out of it."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return path if path.resolve().is_relative_to(Path(root).resolve()) else None
    except OSError:
        return None


def as_plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy of sampled values (numpy scalars -> Python)."""
    out = {}
    for k, v in values.items():
        out[k] = v.item() if hasattr(v, "item") else v
    return out
