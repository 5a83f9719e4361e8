"""Bad input is answered before any heavy library is imported (issue 14, P7).

One fresh interpreter runs the real CLI entry point on each bad input in turn and lists, after
each, the heavy libraries in ``sys.modules``: none may be there (bench/cli_latency.py times the
same commands; this checks the outcome, not a time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "torchvision", "ray", "mlflow", "optuna", "matplotlib", "numpy", "pandas", "sklearn")

CASES = [
    ["--help"],
    ["run", "kpss"],
    ["run", "kps", "--param", "m_maxx=0.1:0.5"],
    ["run", "kps", "--param", "m_max=0.9:0.1"],
    ["run", "kps", "--set", "optim.lr=-1"],
    ["run", "kps", "-d", "nope"],
    ["run", "lort", "--resume", "--name", "ghost"],
    ["train", "--preset", "kps/nope"],
    ["train", "--config", "missing.yaml"],
    ["spaces", "show", "kpss"],
    ["inspect", "kps", "-d", "nope"],
    ["heatmap", "kps", "-d", "digits-lt", "--x", "foo=1,2", "--y", "s_base=8,16"],
    ["leaderboard", "-d", "nope"],
    ["export", "-d", "digits-lt", "-o", "best.yaml"],
    ["importance", "-d", "digits-lt", "--name", "ghost"],
]

SCRIPT = r"""
import json, sys
from ltsearch.cli.main import main

heavy, out = tuple(json.loads(sys.argv[1])), []
for argv in json.loads(sys.argv[2]):
    sys.argv = ["ltsearch", *argv]
    try:
        main()
        code = 0
    except SystemExit as err:
        code = err.code
    loaded = sorted({name.split(".")[0] for name in sys.modules} & set(heavy))
    out.append({"argv": argv, "code": code, "loaded": loaded})
print(json.dumps(out))
"""


def test_bad_input_imports_no_heavy_library(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "RAY_ADDRESS")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(HEAVY), json.dumps(CASES)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r["argv"] for r in results] == CASES
    for r in results:
        assert r["code"] == (0 if r["argv"] == ["--help"] else 2), r
        assert r["loaded"] == [], f"ltsearch {' '.join(r['argv'])} imported {r['loaded']}"
    assert list(tmp_path.iterdir()) == []  # no mlflow.db, trials/, optuna.db
