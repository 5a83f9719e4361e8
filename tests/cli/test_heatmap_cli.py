"""ltsearch heatmap's flags: grid-run flags refused with --from-search, --format against --output's
extension, and the grid run's line logs (no live table) when stderr is not a terminal."""

from __future__ import annotations

import io

import pytest
from typer.testing import CliRunner

from ltsearch.errors import LTSearchError

from ..reports.grid_store import report_app

runner = CliRunner()
BASE = ["heatmap", "kps", "-d", "digits-lt", "--x", "m_max=0.2:0.8:3", "--y", "s_base=10,20"]


@pytest.mark.parametrize("extra, named", [
    (["--epochs", "20"], ["--epochs"]),
    (["--set", "model.name=resnet20"], ["--set"]),
    (["--epochs", "20", "--set", "model.name=resnet20"], ["--epochs", "--set"]),
    (["--no-live"], ["--no-live"]),
    (["--name", "g"], ["--name"]),
])
def test_grid_run_flags_are_refused_with_from_search(tmp_path, extra, named):
    res = runner.invoke(report_app(), [*BASE, "--from-search", "kps-b", *extra,
                                       "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db"])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "--from-search" in lines[0] and all(f in lines[0] for f in named), res.output


@pytest.mark.parametrize("fmt, out, ok", [("pdf", "h.png", False), ("svg", "h.PDF", False), ("pdf", "h.pdf", True),
                                          (None, "h.svg", True), ("pdf", "h", True)])
def test_format_and_output_extension_must_agree(tmp_path, monkeypatch, fmt, out, ok):
    from ltsearch.cli import report_cmds

    seen = {}

    def fake_grid(*args, **kw):
        seen["called"] = True
        raise LTSearchError("stop here")

    monkeypatch.setattr(report_cmds, "_run_grid", fake_grid)
    res = runner.invoke(report_app(), [*BASE, *(["-f", fmt] if fmt else []), "-o", str(tmp_path / out),
                                       "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db"])
    assert res.exit_code == 2
    if ok:
        assert seen and "stop here" in res.output
    else:
        assert not seen and "disagree" in res.output and len(res.output.strip().splitlines()) == 1
    assert not list(tmp_path.glob("h*"))


@pytest.mark.parametrize("flags", [[], ["--no-live"]])
def test_grid_run_logs_lines_when_stderr_is_not_a_terminal(tmp_path, monkeypatch, flags):
    from ltsearch.cli import report_cmds

    seen = {}

    def fake_grid(*args, **kw):
        seen.update(kw)
        raise LTSearchError("stop here")

    monkeypatch.setattr(report_cmds, "_run_grid", fake_grid)
    res = runner.invoke(report_app(), [*BASE, *flags, "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db"])
    assert res.exit_code == 2 and "stop here" in res.output
    assert seen["display"] is False


def test_progress_never_draws_the_live_table_into_a_file_or_pipe():
    from ltsearch.search.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert not Progress("s", "best/val/acc", "max", ["m_max"], 4, live=True, stream=io.StringIO()).live
    assert not Progress("s", "best/val/acc", "max", ["m_max"], 4, stream=io.StringIO()).live
    assert Progress("s", "best/val/acc", "max", ["m_max"], 4, live=True, stream=Tty()).live
    assert not Progress("s", "best/val/acc", "max", ["m_max"], 4, live=False, stream=Tty()).live
