"""What bad input can never do: write outside the path given, return code-bearing YAML, load
pickles or unsafe YAML anywhere in the package."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ltsearch.cli.main import app


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_leaderboard_output_writes_exactly_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    target = tmp_path / "reports" / "lb.md"
    res = CliRunner().invoke(app, ["leaderboard", "--dataset", "digits-lt", "--format", "markdown",
                                   "--output", str(target)])
    assert res.exit_code == 0, res.output
    assert target.is_file()
    assert _listing(tmp_path) == {"reports", "reports/lb.md"}  # nothing else (reading creates no store)


def test_exported_config_is_plain_data():
    from ltsearch.config import dump_yaml
    from ltsearch.yamlio import safe_load

    text = dump_yaml({"epochs": 2, "method": {"name": "kps", "params": {"ga": "off"}}})
    assert "!!" not in text  # no python tags: any YAML reader gets plain data back
    assert safe_load(text)["method"]["params"]["ga"] == "off"


def test_no_unsafe_loading_in_the_package():
    root = Path(__file__).resolve().parents[2] / "ltsearch"
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "yaml.unsafe_load" not in text and "yaml.full_load" not in text, path
        assert "yaml.load(" not in text or "Loader=Loader" in text, path
        for line in text.splitlines():
            if "torch.load(" in line and not line.strip().startswith(('"', "#", "'")) and "``" not in line:
                assert "weights_only=True" in line, (path, line)
