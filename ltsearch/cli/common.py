"""Shared CLI pieces: the consoles, the one error wrapper, and the option vocabulary.

Every command declares its options with the ``Annotated`` aliases below, so a flag means the
same thing everywhere: ``-d/--dataset``, ``-r/--imbalance-ratio``, ``--data-root``,
``-s/--set``, ``-n/--trials``, ``-e/--epochs``, ``-m/--metric``, ``-o/--output``,
``-f/--format``, ``--name`` (a search's name), ``--tracking-uri``, ``--json``.
This module stays light (typer, rich): nothing heavy is imported before a command has
checked its input.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from ltsearch.checks import check_seeds, shown
from ltsearch.console import width_for
from ltsearch.errors import LTSearchError


class _Console:
    """A rich Console made on first use (rich costs ~0.1 s to import; --help and errors skip it)."""

    def __init__(self, **kwargs):
        self._kwargs, self._console = kwargs, None

    def real(self):
        """The rich Console itself (for rich objects that take one, e.g. Progress)."""
        if self._console is None:
            from rich.console import Console

            kwargs = dict(self._kwargs)
            stream = sys.stderr if kwargs.get("stderr") else sys.stdout
            kwargs.setdefault("width", width_for(stream))
            self._console = Console(**kwargs)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.real(), name)


console = _Console()  # human output (stdout)
err_console = _Console(stderr=True)  # diagnostics and errors (stderr)


def new_app(**kwargs: Any) -> typer.Typer:
    """A Typer app with Click's plain help and errors: Typer's rich help imports rich.markdown and
    pygments (~0.3 s, bench/cli_latency.py), which would make ``--help`` slower than the command."""
    return typer.Typer(rich_markup_mode=None, **kwargs)


def fail(message: str) -> None:
    """Print one error line on stderr and exit with code 2."""
    typer.echo(typer.style("error:", fg="red", bold=True) + " " + message, err=True)
    raise typer.Exit(code=LTSearchError.exit_code)



def output_format(output: Path | None, fmt: str | None, by_suffix: dict[str, str]) -> str | None:
    """The format a file is written in: ``--format``, else the one ``output``'s suffix names (``by_suffix``,
    e.g. ``{".csv": "csv"}``); None where neither says. A ``--format`` its suffix contradicts is refused."""
    implied = by_suffix.get(output.suffix.lower()) if output is not None else None
    if fmt is not None and implied is not None and implied != fmt:
        other = next(k for k, v in by_suffix.items() if v == fmt)
        raise LTSearchError(f"--format {fmt} and --output {output} disagree: {output} is {implied} by its suffix but "
                            f"--format is {fmt}; drop --format or name the file {output.with_suffix(other)}")
    return fmt or implied


def user_errors(fn: Callable) -> Callable:
    """Turn :class:`LTSearchError` raised by a command into one line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LTSearchError as err:
            fail(str(err))

    return wrapper


def holds_signals(fn: Callable) -> Callable:
    """Ctrl-C / SIGTERM from the command's first line on (:func:`ltsearch.search.driver.held_signals`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from ltsearch.search.driver import held_signals

        with held_signals():
            return fn(*args, **kwargs)

    return wrapper


def print_json(obj: Any) -> None:
    """Machine output: plain JSON on stdout (no rich markup)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")
    sys.stdout.flush()


def parse_seeds(text: str | None, flag: str = "--seeds") -> list[int] | None:
    if text is None:
        return None
    try:
        seeds = [int(s) for s in text.split(",") if s.strip() != ""]
    except ValueError:
        raise LTSearchError(f"{flag} {shown(text)}: expected integers separated by commas, e.g. {flag} 0,1,2") from None
    if not seeds:
        raise LTSearchError(f"{flag} {shown(text)}: give at least one seed, e.g. {flag} 0")

    check_seeds(flag, seeds)  # in the generators' range, each once (mean ± std counts each seed once)
    return seeds


def check_metric(metric: str | None, flag: str = "--metric") -> None:
    """A metric name that can be logged (``val/acc``, ``val/few``, ``test/acc``)."""
    if metric is not None and (not metric or metric.startswith("/") or metric.endswith("/")):
        raise LTSearchError(f"{flag} {metric!r}: use a logged metric such as val/acc, val/few or test/acc")


def check_positive(value: float | None, flag: str, what: str = "a number >= 1") -> None:
    if value is not None and not value >= 1:
        raise LTSearchError(f"{flag} {value}: use {what}")


def check_dataset(dataset: str, flag: str = "--dataset") -> None:
    """A registered dataset name (the registry's message, blamed on the flag)."""
    from ltsearch.data import DATASETS

    try:
        DATASETS.get(dataset)
    except LTSearchError as err:
        raise LTSearchError(f"{flag} {dataset}: {err}") from None


def default_ratio(dataset: str) -> float | None:
    """The imbalance ratio used when -r is not given: the dataset's own (digits-lt 10, CIFAR 100)."""
    from ltsearch.data import DATASETS

    return DATASETS.get(dataset).default_imbalance_ratio


# ---- the option vocabulary -------------------------------------------------------------
MethodArg = Annotated[str, typer.Argument(help="method: kps, lort, lwr, ce, focal, ldam-drw, bs, la or cb",
                                          show_default=False)]
DatasetOpt = Annotated[str, typer.Option("--dataset", "-d", help="dataset name, e.g. cifar10-lt (list them with: "
                                         "ltsearch datasets)")]
RatioOpt = Annotated[Optional[float], typer.Option(
    "--imbalance-ratio", "-r", help="imbalance ratio n_max / n_min (> 1); default: the dataset's own "
    "(for reports: the ratio that has runs)")]
DataRootOpt = Annotated[Optional[Path], typer.Option("--data-root", help="folder of the dataset's files "
                                                     "(not needed for digits-lt)")]
ValOpt = Annotated[str, typer.Option("--val", help="split: tune on a validation split (honest); test: tune on "
                                     "the test set (the papers' protocol)")]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", "-s", help="override a trial-config key, e.g. "
                                                     "--set model.name=resnet20 (repeatable)")]
EpochsOpt = Annotated[Optional[int], typer.Option("--epochs", "-e", help="epochs per trial (stage 1 for LORT)")]
TrialsOpt = Annotated[Optional[int], typer.Option("--trials", "-n", help="number of trials (tpe / random; "
                                                  "default 8)")]
MetricOpt = Annotated[str, typer.Option("--metric", "-m", help="the search metric; a trial scores its value at "
                                        "its best epoch (best/METRIC)")]
TrackingUriOpt = Annotated[Optional[str], typer.Option(
    "--tracking-uri", help="MLflow store: a URI or a .db file (default: MLFLOW_TRACKING_URI, else ./mlflow.db)")]
StoragePathOpt = Annotated[Path, typer.Option("--storage-path", help="folder of the Ray Tune trial folders")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON on stdout")]
SearchNameOpt = Annotated[str, typer.Option("--name", help="the search's name (ltsearch searches lists them)")]
MethodFilterOpt = Annotated[Optional[str], typer.Option("--method", help="only this method's rows")]
BudgetOpt = Annotated[Optional[int], typer.Option("--budget", help="only the rows of this many planned epochs "
                                                 "(default: every budget, each ranked on its own)")]
