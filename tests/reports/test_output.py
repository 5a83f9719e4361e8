"""Report output paths: atomic replace, one-line errors for folders / missing folders / devices,
no pre-existing temp symlink followed, Markdown leaderboards escape what they print."""

from __future__ import annotations

from pathlib import Path

import pytest

from ltsearch.errors import LTSearchError
from ltsearch.reports.output import check_target, write_text


def test_existing_file_is_replaced_and_no_temp_is_left(tmp_path):
    out = tmp_path / "board.md"
    out.write_text("old")
    write_text(out, "new")
    assert out.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.md"]


def test_a_symlinked_temp_name_is_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    out = tmp_path / "best.yaml"
    for name in ("best.yaml.tmp", ".best.yaml.tmp"):
        (tmp_path / name).symlink_to(victim)
    write_text(out, "a: 1\n")
    assert victim.read_text() == "keep" and out.read_text() == "a: 1\n" and not out.is_symlink()


@pytest.mark.parametrize("target, words", [
    ("folder", ["is a folder"]),
    ("missing/x.md", ["does not exist", "mkdir -p"]),
    ("/dev/full", ["not a regular file"]),
    ("/dev/null", ["not a regular file"]),
])
def test_bad_targets_are_one_line_errors(tmp_path, target, words):
    (tmp_path / "folder").mkdir()
    path = Path(target) if target.startswith("/") else tmp_path / target
    if target.startswith("/dev") and not path.exists():
        pytest.skip(f"{target} absent")
    with pytest.raises(LTSearchError) as err:
        write_text(path, "x", flag="--output")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("--output") and all(w in msg for w in words), msg
    assert not (tmp_path / "missing").exists()


def test_missing_folders_are_created_on_write_only(tmp_path):
    target = tmp_path / "heatmaps" / "a.png"
    check_target(target, mkdir=True)
    assert not target.parent.exists()  # checking writes nothing
    write_text(target, "x", mkdir=True)
    assert target.read_text() == "x"
    (tmp_path / "file").write_text("")
    with pytest.raises(LTSearchError, match="not a folder"):
        check_target(tmp_path / "file" / "sub" / "a.md", mkdir=True)


def test_markdown_leaderboard_escapes_tags_and_params():
    from ltsearch.reports import leaderboard as lb
    from ltsearch.reports import leaderboard_formats as lbf

    row = lb._empty_row("trial", "kps")
    row.update({"rank": 1, "val": 50.0, "params": {"note": "<script>alert(1)</script>|x"},
                "search": "<img src=x onerror=alert(1)>", "run_id": "abcdef0123", "budget": "resnet8, 8 epochs, val split",
                "budget_epochs": 8})
    board = lb.Leaderboard(experiment="digits-lt-ir10", metric="val/acc", rows=[row])
    md = lbf.to_markdown(board)
    assert "<script>" not in md and "<img" not in md and "&lt;script&gt;" in md
    parsed = lbf.parse_markdown_table(md)
    assert parsed[0]["search"] == "<img src=x onerror=alert(1)>"
    html = lbf.to_html(board)
    assert "<script>alert" not in html and "<img" not in html


def test_rows_of_different_budgets_are_ranked_apart():
    from ltsearch.reports import leaderboard as lb

    def run(rid, epochs, val, budget_tag=None):
        tags = {"ltsearch.method": "ce", "ltsearch.status": "completed", "ltsearch.val_protocol": "test-half"}
        if budget_tag is not None:
            tags["ltsearch.budget"] = str(budget_tag)
        return {"run_id": rid, "status": "FINISHED", "tags": tags,
                "params": {"epochs": str(epochs), "model.name": "resnet8", "method.name": "ce"},
                "metrics": {"best/val/acc": val}}

    runs = [run("a", 6, 90.0), run("b", 26, 50.0), run("c", 26, 60.0), run("d", 6, 10.0, budget_tag=26)]
    labels = [lb.budget_label(lb.budget_of(r)) for r in runs]
    assert labels[0] == "resnet8, 6 epochs, val test-half" and labels[1] == labels[2] == labels[3]


def test_exported_yaml_is_portable():
    import yaml

    from ltsearch.reports.export import exported_yaml

    cfg = {"epochs": 2, "cache_dir": "/abs/trials/cache", "dataset": {"name": "cifar10-lt", "root": "/data/c10"},
           "optim": {"lr": 0.1, "milestones": [0.5, 0.75]}}
    text = exported_yaml(cfg, {"method": "ce", "rank": 1, "val": 3.0, "run_id": "abc"}, "x", "val/acc")
    data = yaml.safe_load(text)
    assert "/abs" not in yaml.safe_dump(data) and "/data/c10" not in yaml.safe_dump(data)
    assert "cache_dir" not in data and data["dataset"]["root"] is None and "--data-root" in text
    assert "lr: 0.1\n" in text and "{" not in text and "[" not in text  # block style, shortest floats
