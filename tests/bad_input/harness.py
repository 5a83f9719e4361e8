"""The bad-input rule, checked through the real CLI entry point (``ltsearch.cli.main.main``).

Each case runs in a forked child of the test process (torch and the registries are imported
once, before the fork, so a case costs milliseconds), with its own working folder, stdout and
stderr on one pipe, and a hard time limit: a case that hangs is killed and fails the test
instead of hanging CI. The rule: exit code 2, one line naming the flag / file / value, no
traceback, nothing written in the working folder (no mlflow.db, trials/, optuna.db).
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

CASE_TIMEOUT_S = float(os.environ.get("LTSEARCH_CASE_TIMEOUT_S", "60"))
MAX_LINE = 400  # an error quotes user input cut short: no line longer than this
CLEAN_ENV = {"CUDA_VISIBLE_DEVICES": ""}  # the same answers on machines with and without GPUs


def preload() -> None:
    """What most cases import (so the forked child starts warm); torch too, for the cases that get
    past the checks (the CLI itself answers bad input without it: tests/test_light_imports.py)."""
    import ltsearch.cli.main  # noqa: F401
    import ltsearch.data  # noqa: F401
    import ltsearch.methods  # noqa: F401
    import ltsearch.methods.criteria  # noqa: F401
    import ltsearch.models.build  # noqa: F401
    import ltsearch.search.space  # noqa: F401


def run_cli(argv: list[str], cwd: Path, env: dict[str, str] | None = None,
            timeout: float = CASE_TIMEOUT_S) -> tuple[int, str]:
    """(exit code, stdout + stderr) of ``ltsearch ARGV`` in ``cwd``; AssertionError if it hangs."""
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.setpgid(0, 0)
            os.close(r)
            os.dup2(w, 1)
            os.dup2(w, 2)
            sys.stdout = sys.__stdout__ = open(1, "w", closefd=False, buffering=1)  # not pytest's capture
            sys.stderr = sys.__stderr__ = open(2, "w", closefd=False, buffering=1)
            os.chdir(cwd)
            for key in ("MLFLOW_TRACKING_URI", "RAY_ADDRESS", "LTSEARCH_MIN_FREE_MB"):
                os.environ.pop(key, None)
            os.environ.update({**CLEAN_ENV, **(env or {})})
            if "LTSEARCH_MIN_FREE_MB" in (env or {}):
                import ltsearch.checks

                ltsearch.checks.MIN_FREE_MB = float(env["LTSEARCH_MIN_FREE_MB"])
            sys.argv = ["ltsearch", *argv]
            from ltsearch.cli.main import main

            try:
                main()
                code = 0
            except SystemExit as err:
                code = err.code if isinstance(err.code, int) else (0 if err.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    os.close(w)
    chunks, size, status = [], 0, None
    deadline = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([r], [], [], 0.05)
            if ready:
                data = os.read(r, 65536)
                if data and size < 1_000_000:
                    chunks.append(data)
                    size += len(data)
                if not data and status is not None:
                    break
            if status is None:
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st
            if status is not None and not ready:
                break
            if time.monotonic() > deadline:
                break
    finally:
        os.close(r)
    if status is None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        raise AssertionError(f"ltsearch {' '.join(argv)[:200]} hung: no answer within {timeout:g} s")
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace")


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def check_case(case: tuple, tmp_path: Path) -> None:
    """Run one ``(id, setup(tmp) -> argv | (argv, env), needles)`` case and check the rule."""
    _, setup, needles = case
    work = tmp_path / "work"
    work.mkdir()
    got = setup(work)
    argv, env = got if isinstance(got, tuple) else (got, None)
    before = listing(work)
    code, out = run_cli([str(a) for a in argv], work, env)
    assert code == 2, (argv, code, out[-3000:])
    assert "Traceback" not in out, out[-3000:]
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, out[-3000:]
    assert lines[0].startswith("error: "), lines[0]
    assert len(lines[0]) <= MAX_LINE, (len(lines[0]), lines[0][:500])
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert listing(work) == before, listing(work) - before  # no mlflow.db, trials/, optuna.db, pwned


Setup = Callable[[Path], object]


# ---- files the cases write before the command runs --------------------------------------------
def tiny(method: str = "ce", epochs: int = 1, **params) -> dict:
    from ..helpers import tiny_config

    return tiny_config(method, epochs=epochs, **params)


def cfg(tmp: Path, name: str = "c.yaml", **changes) -> str:
    import yaml

    data = tiny("ce", epochs=1)
    for key, value in changes.items():
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    (tmp / name).write_text(yaml.safe_dump(data))
    return name


def text(tmp: Path, name: str, body: str | bytes) -> str:
    (tmp / name).write_bytes(body if isinstance(body, bytes) else body.encode())
    return name


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs" document: 9 levels of 9 aliases (~387 million strings), a few hundred bytes."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep(levels: int = 3000, flow: bool = False) -> str:
    """A document nested ``levels`` deep: flow ``[[[...]]]``, or block mappings indented one space a level."""
    if flow:
        return "epochs: " + "[" * levels + "]" * levels + "\n"
    return "".join(" " * i + "k:\n" for i in range(levels)) + " " * levels + "v: 1\n"
