"""The code passes pyflakes' checks (ruff ``F``: undefined names, unused imports and variables), so a
name that a refactor left behind, or one it dropped, is caught here rather than at a user's run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pyflakes_is_clean():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "ltsearch", "tests", "bench"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
