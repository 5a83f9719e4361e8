"""Bad input through the real CLI: one line naming the file / flag / value and the fix, exit code 2,
no traceback, nothing written (no mlflow.db, no trials/ folder). Plus a hypothesis fuzz of the
validation path (space files, --param / --fix / --set values, YAML documents): never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import tiny_config
from ltsearch.cli.main import app


def _cfg(tmp: Path, name: str = "c.yaml", **changes) -> str:
    data = tiny_config("ce", epochs=1)
    for key, value in changes.items():
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    (tmp / name).write_text(yaml.safe_dump(data))
    return name


def _text(tmp: Path, name: str, text: str) -> str:
    (tmp / name).write_text(text)
    return name


def _space(tmp: Path, body: str, name: str = "space.yaml") -> str:
    return _text(tmp, name, body)


def _png(path: Path, size: int = 32) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), (120, 30, 200)).save(path)


def _cifar_tree(tmp: Path, corrupt: bool) -> str:
    root = tmp / "cifar"
    for split in ("train", "test"):
        for c in range(10):
            for i in range(2):
                _png(root / split / f"class{c}" / f"{i}.png")
    if corrupt:
        (root / "train" / "class0" / "0.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    return str(root)


def _split_root(tmp: Path, train_text: str | None, test_text: str | None = "a/0.png 0\n") -> str:
    root = tmp / "inet"
    root.mkdir()
    if train_text is not None:
        (root / "ImageNet_LT_train.txt").write_text(train_text)
    if test_text is not None:
        (root / "ImageNet_LT_test.txt").write_text(test_text)
    return str(root)


def _bad_ckpt(tmp: Path) -> str:
    (tmp / "stage1.pt").write_bytes(b"PK\x03\x04 this is not a torch checkpoint")
    return str(tmp / "stage1.pt")


def _pwn(tmp: Path) -> str:
    return _text(tmp, "pwn.yaml", '!!python/object/apply:os.system ["touch pwned"]\n')


def _pwn_nested(tmp: Path) -> str:
    return _text(tmp, "pwn2.yaml", 'epochs: !!python/object/apply:os.system ["touch pwned"]\n')


# (id, setup(tmp) -> argv, needles that the one line must contain)
CASES = [
    # ---- malformed / hostile YAML ----------------------------------------------------
    ("yaml-malformed", lambda t: ["train", "--config", _text(t, "m.yaml", "epochs: [1, 2\nseed: 0\n")],
     ["m.yaml", "invalid YAML", "line"]),
    ("yaml-not-mapping", lambda t: ["train", "--config", _text(t, "l.yaml", "- 1\n- 2\n")],
     ["l.yaml", "mapping"]),
    ("yaml-binary", lambda t: ["train", "--config", (t / "b.yaml").write_bytes(b"\xff\xfe\x00\x81") and "b.yaml"],
     ["b.yaml"]),
    ("yaml-python-tag", lambda t: ["train", "--config", _pwn(t)], ["pwn.yaml", "python/object"]),
    ("yaml-python-tag-nested", lambda t: ["train", "--config", _pwn_nested(t)], ["pwn2.yaml"]),
    ("space-python-tag", lambda t: ["run", "kps", "--space", _pwn(t)], ["pwn.yaml"]),
    ("config-missing-file", lambda t: ["train", "--config", "nope.yaml"], ["nope.yaml", "no such file"]),
    # ---- unknown names -----------------------------------------------------------------
    ("unknown-method-run", lambda t: ["run", "nope"], ["nope", "unknown method"]),
    ("unknown-method-config", lambda t: ["train", "--config", _cfg(t, **{"method.name": "nope"})], ["nope"]),
    ("unknown-dataset-run", lambda t: ["run", "kps", "--dataset", "nope-lt"], ["nope-lt"]),
    ("unknown-dataset-config", lambda t: ["train", "--config", _cfg(t, **{"dataset.name": "nope-lt"})],
     ["nope-lt"]),
    ("unknown-param", lambda t: ["run", "kps", "--param", "m_min=0:1"], ["m_min", "--param"]),
    ("unknown-fix", lambda t: ["run", "kps", "--fix", "optim.learning_rate=0.1"], ["learning_rate", "--fix"]),
    ("unknown-config-key", lambda t: ["train", "--config", _cfg(t, **{"optim.learning_rate": 0.1})],
     ["optim.learning_rate"]),
    ("unknown-set-key", lambda t: ["train", "--config", _cfg(t), "--set", "optim.lrr=0.1"], ["optim.lrr"]),
    ("unknown-preset", lambda t: ["train", "--preset", "kps/mnist"], ["kps/mnist"]),
    ("unknown-space-key", lambda t: ["run", "kps", "--space", _space(t, "method: kps\nparms: {}\n")], ["parms"]),
    # ---- out-of-range bounds ---------------------------------------------------------------
    ("lort-delta-ge-1", lambda t: ["run", "lort", "--param", "delta=0.5:1.0"], ["delta", "1"]),
    ("lort-delta-fix-1", lambda t: ["run", "lort", "--fix", "delta=1.2"], ["delta", "1.2"]),
    ("lwr-theta-high", lambda t: ["run", "lwr", "--fix", "theta=1.5"], ["theta", "1.5", "[-1, 1]"]),
    ("lwr-theta-low", lambda t: ["run", "lwr", "--param", "theta=-2:0.5"], ["theta", "-2", "[-1, 1]"]),
    ("kps-m-max-negative", lambda t: ["run", "kps", "--fix", "m_max=-0.1"], ["m_max", "-0.1", "[0, 2]"]),
    ("kps-m-max-negative-config", lambda t: ["train", "--config", _cfg(
        t, **{"method.name": "kps", "method.params": {"m_max": -0.5}})], ["m_max", "-0.5"]),
    ("kps-n-base-1", lambda t: ["run", "kps", "--fix", "n_base=1"], ["n_base", "(1,"]),
    ("kps-n-base-space", lambda t: ["run", "kps", "--space", _space(
        t, "method: kps\nparams:\n  n_base: {type: float, low: 0.5, high: 10}\n")], ["space.yaml", "n_base", "0.5"]),
    ("ir-le-1-run", lambda t: ["run", "kps", "--imbalance-ratio", "1"], ["--imbalance-ratio", "1"]),
    ("ir-le-1-config", lambda t: ["train", "--config", _cfg(t, **{"dataset.imbalance_ratio": 0.5})],
     ["imbalance_ratio", "0.5"]),
    ("ir-le-1-set", lambda t: ["train", "--config", _cfg(t), "--set", "dataset.imbalance_ratio=1"],
     ["imbalance_ratio"]),
    ("negative-lr", lambda t: ["train", "--config", _cfg(t), "--set", "optim.lr=-1"], ["optim.lr", "-1"]),
    ("lr-not-number", lambda t: ["train", "--config", _cfg(t), "--set", "optim.lr=fast"], ["optim.lr", "fast"]),
    ("lr-nan", lambda t: ["train", "--config", _cfg(t), "--set", "optim.lr=.nan"], ["optim.lr"]),
    ("epochs-zero", lambda t: ["run", "kps", "--epochs", "0"], ["--epochs", "0"]),
    ("trials-zero", lambda t: ["run", "kps", "--trials", "0"], ["--trials", "0"]),
    ("retries-negative", lambda t: ["run", "kps", "--retries", "-1"], ["--retries", "-1"]),
    ("low-above-high", lambda t: ["run", "kps", "--param", "m_max=0.8:0.1"], ["m_max", "0.8", "0.1"]),
    # ---- choices and log scales --------------------------------------------------------------
    ("empty-choices", lambda t: ["run", "kps", "--space", _space(
        t, "method: kps\nparams:\n  ga: {type: categorical, choices: []}\n")], ["space.yaml", "ga", "choices"]),
    ("bad-choice", lambda t: ["run", "kps", "--param", "ga=column,diagonal"], ["ga", "diagonal"]),
    ("log-zero-low", lambda t: ["run", "kps", "--param", "optim.weight_decay=0:0.001:log"],
     ["weight_decay", "log", "low > 0"]),
    ("log-negative-low-space", lambda t: ["run", "lwr", "--space", _space(
        t, "method: lwr\nparams:\n  lambda_0: {type: float, low: 0, high: 10, log: true}\n")],
     ["space.yaml", "lambda_0", "log"]),
    # ---- data -----------------------------------------------------------------------------------
    ("missing-data-root", lambda t: ["train", "--config", _cfg(t, **{"dataset.name": "cifar10-lt",
                                                                       "dataset.root": str(t / "nothere")})],
     ["nothere", "does not exist"]),
    ("missing-data-root-run", lambda t: ["run", "ce", "--dataset", "cifar10-lt", "--data-root", str(t / "nothere")],
     ["nothere"]),
    ("missing-split-file", lambda t: ["run", "ce", "--dataset", "imagenet-lt", "--data-root",
                                      _split_root(t, None)], ["ImageNet_LT_train.txt", "not found"]),
    ("truncated-split-file", lambda t: ["run", "ce", "--dataset", "imagenet-lt", "--data-root",
                                        _split_root(t, "a/0.png 0\na/1.png 1\na/2.pn")],
     ["ImageNet_LT_train.txt:3", "truncated"]),
    ("label-out-of-range", lambda t: ["run", "ce", "--dataset", "imagenet-lt", "--data-root",
                                      _split_root(t, "a/0.png 0\na/1.png 1\n", "a/0.png 7\n")],
     ["ImageNet_LT_test.txt", "label 7", "out of range"]),
    ("corrupt-image", lambda t: ["train", "--config", _cfg(t, **{"dataset.name": "cifar10-lt",
                                                                   "dataset.root": _cifar_tree(t, True)})],
     ["0.png", "cannot decode image"]),
    # ---- checkpoints, reports, resume -----------------------------------------------------
    ("unreadable-checkpoint", lambda t: ["train", "--config", _cfg(
        t, **{"method.name": "lort", "method.params": {"backbone": _bad_ckpt(t)}})],
     ["stage1.pt", "unreadable checkpoint"]),
    ("export-no-runs", lambda t: ["export", "--dataset", "digits-lt", "--output", "best.yaml"], ["digits-lt"]),
    ("leaderboard-bad-format", lambda t: ["leaderboard", "--dataset", "digits-lt", "--format", "pdf"],
     ["--format", "pdf"]),
    ("resume-unknown-search", lambda t: ["run", "kps", "--resume", "--name", "ghost"], ["ghost", "--name"]),
    ("resume-no-search", lambda t: ["run", "kps", "--resume"], ["--resume", "no search"]),
    # ---- conflicting / malformed flags ------------------------------------------------------
    ("config-and-preset", lambda t: ["train", "--config", _cfg(t), "--preset", "kps/cifar10-lt"],
     ["--config", "--preset"]),
    ("neither-config-nor-preset", lambda t: ["train"], ["--config", "--preset"]),
    ("gpus-negative", lambda t: ["run", "kps", "--gpus-per-trial", "-1"], ["--gpus-per-trial", "-1"]),
    ("space-bad-mode", lambda t: ["run", "kps", "--space", _space(t, "method: kps\nmode: sideways\n")],
     ["space.yaml", "sideways"]),
    ("grid-with-trials", lambda t: ["run", "kps", "--search", "grid", "--trials", "5"],
     ["--search grid", "--trials"]),
    ("set-without-equals", lambda t: ["train", "--config", _cfg(t), "--set", "optim.lr"], ["--set", "key=value"]),
    ("bad-seeds", lambda t: ["train", "--config", _cfg(t), "--seeds", "0,x"], ["--seeds", "0,x"]),
    ("bad-search", lambda t: ["run", "kps", "--search", "bayes"], ["--search", "bayes"]),
    ("bad-scheduler", lambda t: ["run", "kps", "--scheduler", "pbt"], ["--scheduler", "pbt"]),
    ("metric-on-test", lambda t: ["run", "kps", "--metric", "test/acc"], ["test/acc"]),
    ("param-no-value", lambda t: ["run", "kps", "--param", "m_max="], ["m_max"]),
    # ---- output paths stay where the user points ------------------------------------------------
    ("name-traversal", lambda t: ["run", "kps", "--name", "../../evil"], ["--name", "../../evil"]),
    ("name-absolute", lambda t: ["run", "kps", "--name", "/tmp/evil"], ["--name", "/tmp/evil"]),
    ("name-dotdot", lambda t: ["run", "kps", "--name", ".."], ["--name"]),
]


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_2_writes_nothing(case, tmp_path, monkeypatch):
    _, setup, needles = case
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    argv = setup(tmp_path)
    before = _listing(tmp_path)
    res = CliRunner().invoke(app, argv)
    out = res.output
    assert res.exit_code == 2, (argv, res.exit_code, out, res.exception)
    assert "Traceback" not in out, out
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, out
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert _listing(tmp_path) == before, _listing(tmp_path) - before  # no mlflow.db, trials/, pwned
    assert not (tmp_path.parent / "evil").exists() and not Path("/tmp/evil").exists()


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
    root = Path(__file__).resolve().parents[1] / "ltsearch"
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "yaml.unsafe_load" not in text and "yaml.full_load" not in text, path
        assert "yaml.load(" not in text or "Loader=Loader" in text, path
        for line in text.splitlines():
            if "torch.load(" in line and not line.strip().startswith(('"', "#", "'")) and "``" not in line:
                assert "weights_only=True" in line, (path, line)


# ---- fuzz: the validation path never raises anything but LTSearchError ------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KEYS = ["method", "metric", "mode", "base", "datasets", "params", "optim", "m_max", "s_base", "n_base", "ga",
         "ga_start", "lr", "weight_decay", "epochs", "type", "low", "high", "log", "choices", "fixed", "when",
         "default", "digits-lt", "model", "name", "dataset", "imbalance_ratio", "batch_size", "schedule",
         "milestones", "x", ""]
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                     st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(_KEYS),
                     st.text(max_size=8), st.sampled_from(["kps", "lwr", "lort", "ce", "float", "int",
                                                           "categorical", "column", "off", "val/acc", "max"]))
_docs = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_KEYS), inner, max_size=5)), max_leaves=20)
_dim_keys = st.sampled_from(["type", "low", "high", "log", "choices", "fixed", "when", "default", "help"])
_dim = st.one_of(_scalars, st.lists(_scalars, max_size=3),
                 st.dictionaries(_dim_keys, st.one_of(_scalars, st.lists(_scalars, max_size=3),
                                                     st.dictionaries(st.sampled_from(_KEYS), _scalars, max_size=2)),
                                 max_size=5))
_names = st.sampled_from(["m_max", "s_base", "n_base", "ga", "ga_start", "delta", "stage2_epochs", "theta", "tau",
                          "lambda_schedule", "lambda_0", "lambda_milestone", "lambda_gamma", "projection", "bn"])
_shared = st.sampled_from(["lr", "weight_decay", "momentum", "batch_size", "nesterov", "epochs", "warmup_epochs",
                           "schedule", "nope"])
_structured = st.fixed_dictionaries({}, optional={
    "params": st.dictionaries(_names, _dim, max_size=4), "optim": st.dictionaries(_shared, _dim, max_size=3),
    "base": st.dictionaries(st.sampled_from(["epochs", "optim", "model", "dataset", "seed"]), _docs, max_size=2),
    "metric": _scalars, "mode": _scalars,
    "datasets": st.dictionaries(st.sampled_from(["digits-lt", "cifar*", "*"]), st.dictionaries(
        st.sampled_from(["base", "params", "optim", "metric", "x"]), _docs, max_size=2), max_size=1)})
_override_names = st.sampled_from(["m_max", "s_base", "n_base", "ga", "ga_start", "optim.lr", "optim.epochs",
                                   "lr", "weight_decay", "nope", "method.params.m_max", ""])
_override_values = st.one_of(st.text(max_size=12), st.sampled_from(
    ["0.1:0.8", "1:2:log", "0:1:log", "-1:1", "a,b", "column,row", "1e9", "nan", "inf", ":", "::log", "1:2:int",
     "[1, 2]", "{a: 1}", "!!python/object/apply:os.system [ls]", "0.5", "true", "off", "1:0"]))
_set_keys = st.sampled_from(["epochs", "optim.lr", "optim.batch_size", "dataset.imbalance_ratio", "dataset.name",
                             "schedule.milestones", "method.params.m_max", "model.name", "seed", "nope.x",
                             "optim", "device", "dataset.val", "eval_every", ".", "a..b"])


def _validate(raw, params, fixed, sets, method):
    from ltsearch.config import apply_overrides, config_from_dict
    from ltsearch.methods import get_method
    from ltsearch.search.space import parse_space

    space = parse_space(raw, "fuzz.yaml", method=method, params=params, fixed=fixed)
    base = apply_overrides(space.base_config(), sets)
    cfg = config_from_dict(space.config_for(space.paper_point(base), base), where="fuzz")
    get_method(cfg.method.name).resolve(cfg.method.params, dataset=space.dataset)


FUZZ_EXAMPLES = int(os.environ.get("LTSEARCH_FUZZ_EXAMPLES", "100"))  # more: LTSEARCH_FUZZ_EXAMPLES=5000


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(doc=st.one_of(_docs, _structured), method=st.sampled_from(["kps", "lwr", "lort", "ce"]),
       params=st.lists(st.tuples(_override_names, _override_values), max_size=2),
       fixed=st.lists(st.tuples(_override_names, _override_values), max_size=2),
       sets=st.lists(st.tuples(_set_keys, _override_values), max_size=3),
       as_text=st.booleans())
def test_fuzz_space_and_overrides_only_user_errors(doc, method, params, fixed, sets, as_text):
    from ltsearch.config import load_yaml
    from ltsearch.errors import LTSearchError

    raw = doc
    if isinstance(doc, dict) and not as_text:
        raw = {"method": method, **doc}
    try:
        if as_text:  # through the YAML reader, as a file
            import tempfile

            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
                yaml.safe_dump(raw, f) if not isinstance(raw, str) else f.write(raw)
            raw = load_yaml(f.name)
            Path(f.name).unlink()
        _validate(raw, [f"{k}={v}" for k, v in params], [f"{k}={v}" for k, v in fixed],
                  [f"{k}={v}" for k, v in sets], method)
    except LTSearchError as err:
        assert "\n" not in str(err).strip(), str(err)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(alphabet=st.sampled_from(list("ab:{}[]-,!&*|>'\" \n\t#%@`?0.9e")), max_size=40))
def test_fuzz_yaml_text_only_user_errors(text, tmp_path_factory):
    from ltsearch.config import config_from_dict, load_yaml
    from ltsearch.errors import LTSearchError

    path = tmp_path_factory.mktemp("fz") / "f.yaml"
    path.write_text(text)
    try:
        config_from_dict(load_yaml(path), where=str(path))
    except LTSearchError as err:
        assert "\n" not in str(err).strip()
