"""Ctrl-C and SIGTERM always stop a search (``ltsearch.search.driver.signals_as_interrupts``): from its
first second, and also when the signal lands where Python drops or must not raise its exception."""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from ltsearch.search.driver import SearchInterrupted, signals_as_interrupts

from .test_kill_resume import _drive


def test_an_interrupt_that_something_swallowed_is_delivered_again():
    """A ``__del__`` or weakref callback prints "Exception ignored" and drops the exception: without an
    acknowledgement the signal comes again, and the search stops after all."""
    with pytest.raises(SearchInterrupted) as caught:
        with signals_as_interrupts("s"):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            except SearchInterrupted:
                pass  # swallowed, as Python does in a finaliser
            time.sleep(5)  # the watchdog signals again within REDELIVER_S
    assert caught.value.exit_code == 128 + signal.SIGTERM


def test_an_acknowledged_interrupt_is_not_delivered_again():
    with signals_as_interrupts("s") as signals:
        with pytest.raises(SearchInterrupted):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        signals.acknowledge()
        time.sleep(2.5)  # nothing comes
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_signal_inside_importlib_is_raised_a_moment_later_not_there(tmp_path, monkeypatch):
    """Raised inside importlib's own code, the exception would leave the import lock held and hang
    the driver; the handler delivers it again a moment later instead."""
    (tmp_path / "frame_of_importlib.py").write_text("import sys\nFRAME = sys._getframe().f_back\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    frame = importlib.import_module("frame_of_importlib").FRAME
    assert frame.f_code.co_filename.startswith("<frozen importlib")
    with signals_as_interrupts("s") as signals:
        assert signals._raise(signal.SIGINT, frame) is None  # not raised there
        with pytest.raises(SearchInterrupted):
            time.sleep(2)  # raised here, where the main thread is next
        signals.acknowledge()
    sys.modules.pop("frame_of_importlib", None)


@pytest.mark.parametrize("point, saved", [("start", False), ("open", True)])
def test_ctrl_c_before_the_first_trial_stops_the_search(tmp_path, point, saved):
    """SIGINT while the data loads (no state yet) or just after the state file is written: exit 130,
    and a written state says ``stopped``, never ``running``."""
    out = _drive(tmp_path, "new", f"{point}:1:INT")
    assert out.returncode == 130, out.stdout[-2000:]
    state_file = tmp_path / "trials" / "kr" / "search.json"
    assert state_file.is_file() == saved
    if saved:
        assert json.loads(state_file.read_text())["status"] == "stopped"


def test_ctrl_c_while_the_command_starts_exits_130_and_writes_nothing(tmp_path):
    """`ltsearch run` holds the signal from its first line (its checks and imports take seconds), even a
    SIGINT the shell set to be ignored, as it does for a background job (`ltsearch run ... &`)."""
    import subprocess

    from ..helpers import cli_process

    proc = cli_process(["run", "kps", "--trials", "2", "--epochs", "2", "--name", "early"], tmp_path,
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.time() + 60
    while not _catches(proc.pid, signal.SIGINT) and time.time() < deadline:  # ltsearch's first line ran
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    assert proc.returncode == 130, out
    assert "interrupted before the search started: nothing was written" in out
    assert not (tmp_path / "trials" / "early").exists()


def _catches(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (Linux: SigCgt in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


def test_the_command_gives_the_handlers_back_and_a_second_signal_mid_cleanup_gets_them(tmp_path, monkeypatch):
    """`ltsearch run` holds signals only while it runs (in-process callers keep their Ctrl-C), and once a
    stop has begun, a second Ctrl-C meets the handler from before the command, never the holder."""
    from typer.testing import CliRunner

    from ltsearch.cli.main import app
    from ltsearch.search.driver import held_signals

    monkeypatch.chdir(tmp_path)
    before = signal.getsignal(signal.SIGINT)
    res = CliRunner().invoke(app, ["run", "kps", "--metric", "val/nope"])
    assert res.exit_code == 2 and signal.getsignal(signal.SIGINT) is before
    with held_signals():
        assert signal.getsignal(signal.SIGINT) is not before
        with signals_as_interrupts("s") as signals:
            signals.acknowledge()  # the stop's cleanup begins
            assert signal.getsignal(signal.SIGINT) is before
    assert signal.getsignal(signal.SIGINT) is before
