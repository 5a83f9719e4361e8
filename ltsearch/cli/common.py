"""Shared CLI pieces: one console for humans, errors as one line + exit code 2, option aliases."""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, Callable

import typer
from rich.console import Console

from ltsearch.checks import shown
from ltsearch.errors import LTSearchError

console = Console()  # human output (stdout)
err_console = Console(stderr=True)  # diagnostics


def fail(message: str) -> None:
    """Print one error line on stderr and exit with code 2."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=LTSearchError.exit_code)


def user_errors(fn: Callable) -> Callable:
    """Turn :class:`LTSearchError` raised by a command into one line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LTSearchError as err:
            fail(str(err))

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
    from ltsearch.checks import check_seeds

    check_seeds(flag, seeds)  # in the generators' range, each once (mean ± std counts each seed once)
    return seeds
