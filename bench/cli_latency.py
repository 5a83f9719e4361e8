"""P7: wall time of ``ltsearch --help`` and of every kind of bad-input error, against a bare Python.

    python bench/cli_latency.py [--repeat 5]

Each command runs in a fresh temporary folder (no mlflow.db, no trials/), ``--repeat`` times; the
best run is reported (the machine's noise only ever adds time) with its ratio to ``python -c pass``
measured the same way. ltsearch's sources are byte-compiled first, as ``pip install`` does (a box
with PYTHONDONTWRITEBYTECODE=1 would otherwise recompile them on every call). Goals (issue 14, P7): ``--help`` < 0.3 s, every bad-input error < 0.5 s.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "ltsearch.cli.main"]

# (label, argv, expected exit code)
CASES = [
    ("--help", ["--help"], 0),
    ("--version", ["--version"], 0),
    ("run --help", ["run", "--help"], 0),
    ("run: unknown method", ["run", "kpss"], 2),
    ("run: bad --search", ["run", "kps", "--search", "bayes"], 2),
    ("run: bad --param range", ["run", "kps", "--param", "m_max=0.9:0.1"], 2),
    ("run: unknown --param knob", ["run", "kps", "--param", "m_maxx=0.1:0.5"], 2),
    ("run: unknown dataset", ["run", "kps", "-d", "nope"], 2),
    ("run: bad --set key", ["run", "kps", "--set", "optim.lrr=0.1"], 2),
    ("run: --imbalance-ratio 1", ["run", "kps", "-r", "1"], 2),
    ("run: --resume unknown", ["run", "kps", "--resume", "--name", "ghost"], 2),
    ("train: missing config", ["train", "--config", "missing.yaml"], 2),
    ("train: unknown preset", ["train", "--preset", "kps/nope"], 2),
    ("leaderboard: bad --format", ["leaderboard", "-d", "digits-lt", "--format", "docx"], 2),
    ("leaderboard: unknown dataset", ["leaderboard", "-d", "nope"], 2),
    ("export: no runs", ["export", "-d", "digits-lt", "-o", "best.yaml"], 2),
    ("heatmap: unknown knob", ["heatmap", "kps", "-d", "digits-lt", "--x", "foo=1,2", "--y", "s_base=8,16"], 2),
    ("importance: unknown search", ["importance", "-d", "digits-lt", "--name", "ghost"], 2),
    ("datasets show: unknown", ["datasets", "show", "nope"], 2),
    ("inspect: unknown dataset", ["inspect", "kps", "-d", "nope"], 2),
    ("spaces show: unknown method", ["spaces", "show", "kpss"], 2),
]


def best_time(argv: list[str], repeat: int, expect: int | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "RAY_ADDRESS")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True)
            dt = time.perf_counter() - t0
            if expect is not None and proc.returncode != expect:
                raise SystemExit(f"{argv}: exit {proc.returncode}, expected {expect}\n{proc.stderr[-2000:]}")
            if os.listdir(tmp):
                raise SystemExit(f"{argv}: wrote {os.listdir(tmp)}")
        best = min(best, dt)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    compileall.compile_dir(ROOT / "ltsearch", quiet=1)
    from importlib.metadata import version

    print(f"typer {version('typer')}, click {version('click')}, rich {version('rich')}")
    bare = best_time([sys.executable, "-c", "pass"], args.repeat)
    print(f"{'command':32s} {'best s':>8s} {'x bare':>7s}")
    print(f"{'python -c pass':32s} {bare:8.3f} {1.0:7.2f}")
    worst = 0.0
    for label, argv, code in CASES:
        t = best_time(CLI + argv, args.repeat, code)
        if code == 2:
            worst = max(worst, t)
        print(f"{label:32s} {t:8.3f} {t / bare:7.2f}")
    print(f"slowest bad-input error: {worst:.3f} s ({worst / bare:.2f} x bare)")


if __name__ == "__main__":
    main()
