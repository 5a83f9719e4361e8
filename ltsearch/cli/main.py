"""The ``ltsearch`` command: a thin root app joining one module per command group.

Heavy libraries (torch, ray, mlflow, optuna) are imported inside the commands, so
``ltsearch --help`` is instant.
"""

from __future__ import annotations

import typer

from ltsearch.cli import datasets_cmd, inspect_cmd, presets_cmd, report_cmds, search_cmds, train_cmd
from ltsearch.cli.common import user_errors

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


app = typer.Typer(
    cls=OneLineErrors,
    name="ltsearch",
    help="Hyperparameter search and honest leaderboards for long-tailed image classification "
         "(KPS + GA, LORT, LWR and their baselines).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

app.command("train")(user_errors(train_cmd.train))
app.command("inspect")(user_errors(inspect_cmd.inspect))
app.add_typer(datasets_cmd.app, name="datasets")
app.add_typer(presets_cmd.app, name="presets")

app.command("run")(user_errors(search_cmds.run))
app.add_typer(search_cmds.spaces_app, name="spaces")
app.command("leaderboard")(user_errors(report_cmds.leaderboard))
app.command("heatmap")(user_errors(report_cmds.heatmap))
app.command("export")(user_errors(report_cmds.export))
app.command("importance")(user_errors(report_cmds.importance))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
