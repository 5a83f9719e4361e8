"""The ``ltsearch`` command: a thin root app joining one module per command group.

Every command function carries the one error wrapper (``cli.common.user_errors``) itself, so
the root only mounts them. Every command module loads with ``ltsearch --help``, so a command
imports what it runs inside its function (after checking its flags), and heavy libraries (torch,
ray, mlflow, optuna, numpy, matplotlib) only after its input is checked: ``ltsearch --help`` and
every bad-input error are instant (bench/cli_latency.py, tests/test_light_imports.py).
"""

from __future__ import annotations

from typing import Annotated

import typer

from ltsearch import __version__
from ltsearch.cli import (
    datasets_cmd,
    inspect_cmd,
    presets_cmd,
    report_cmds,
    search_cmds,
    train_cmd,
)
from ltsearch.cli.common import new_app


class OneLineErrors(typer.core.TyperGroup):
    """Flag parsing errors (``--trials 1e23`` for an integer, a missing value) as one line + exit 2,
    like every other user error (Click would print usage, a hint and a boxed message)."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except Exception as err:  # Click's exceptions (Typer vendors its own Click: matched by shape)
            if type(err).__name__ == "NoArgsIsHelpError":
                err.show()
                raise SystemExit(2) from None
            if hasattr(err, "format_message") and isinstance(getattr(err, "exit_code", None), int):
                typer.echo(f"error: {' '.join(err.format_message().split())}", err=True)
                raise SystemExit(err.exit_code) from None
            if type(err).__name__ == "Abort":
                typer.echo("Aborted!", err=True)
                raise SystemExit(1) from None
            raise
        raise SystemExit(rv if isinstance(rv, int) else 0)


app = new_app(
    cls=OneLineErrors,
    name="ltsearch",
    help="Hyperparameter search and honest leaderboards for long-tailed image classification "
         "(KPS + GA, LORT, LWR and their baselines).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ltsearch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="print the version and exit", is_eager=True,
                                          callback=_version)] = False,
) -> None:
    """Hyperparameter search and honest leaderboards for long-tailed image classification
    (KPS + GA, LORT, LWR and their baselines)."""


app.command("run")(search_cmds.run)
app.add_typer(search_cmds.spaces_app, name="spaces")
app.command("train")(train_cmd.train)
app.command("confirm")(train_cmd.confirm)
app.add_typer(presets_cmd.app, name="presets")
app.command("leaderboard")(report_cmds.leaderboard)
app.command("heatmap")(report_cmds.heatmap)
app.command("export")(report_cmds.export)
app.command("importance")(report_cmds.importance)
app.command("figures")(report_cmds.figures)
app.command("searches")(report_cmds.searches)
app.command("compare")(report_cmds.compare)
app.command("inspect")(inspect_cmd.inspect)
app.add_typer(datasets_cmd.app, name="datasets")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
