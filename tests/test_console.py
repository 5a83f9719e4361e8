"""The width of rich output: the terminal's, ``$COLUMNS``, or PIPE_WIDTH for files and pipes."""

import io

from ltsearch.console import PIPE_WIDTH, width_for


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_pipe_gets_the_wide_width(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert width_for(io.StringIO()) == PIPE_WIDTH


def test_terminal_and_columns_leave_it_to_rich(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert width_for(_Tty()) is None
    monkeypatch.setenv("COLUMNS", "90")
    assert width_for(io.StringIO()) is None


def test_cli_console_is_wide_when_piped(monkeypatch, capsys):
    from ltsearch.cli.common import _Console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert _Console().real().width == PIPE_WIDTH  # pytest's capture is a pipe, not a terminal
    assert _Console(width=70).real().width == 70  # an explicit width wins


def test_count_puts_the_noun_in_the_number_asked():
    from ltsearch.console import count

    assert [count(n, "row") for n in (0, 1, 2)] == ["0 rows", "1 row", "2 rows"]
    assert count(1, "search", "searches") == "1 search" and count(3, "search", "searches") == "3 searches"
