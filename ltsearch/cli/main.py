"""The ``ltsearch`` command: a thin root app joining one module per command group.

Heavy libraries (torch, ray, mlflow, optuna) are imported inside the commands, so
``ltsearch --help`` is instant.
"""

from __future__ import annotations

import typer

from ltsearch.cli import datasets_cmd, inspect_cmd, presets_cmd, report_cmds, search_cmds, train_cmd
from ltsearch.cli.common import user_errors

app = typer.Typer(
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
