"""Hypothesis fuzz of the validation path: space documents, --param / --fix / --set values, raw YAML
text, YAML with anchors / aliases and deep nesting, numeric flag values (nan, inf, huge, negative).
Nothing but a one-line LTSearchError ever comes out, and every input is answered (bounded)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ---- YAML with anchors, aliases (chains, bombs, recursion) and deep nesting -------------------
@st.composite
def _alias_yaml(draw) -> str:
    """Levels of anchored lists whose items alias earlier levels (or, sometimes, their own level:
    a recursive document), wrapped in a random depth of flow or block nesting."""
    lines = []
    levels = draw(st.integers(1, 14))
    for i in range(levels):
        refs = [f"*a{j}" for j in range(i)] + (["*a" + str(i)] if draw(st.booleans()) and i else [])
        items = draw(st.lists(st.sampled_from(refs + ["1", "x", "[1, 2]", "{k: v}", "1e-4", "off"]),
                              min_size=1, max_size=12))
        lines.append(f"a{i}: &a{i} [{', '.join(items)}]")
    depth = draw(st.integers(0, 400))
    key = draw(st.sampled_from(["epochs", "method", "optim", "seed", "params", "base", "x"]))
    if draw(st.booleans()):
        value = "[" * depth + f"*a{levels - 1}" + "]" * depth
    else:
        value = "".join("\n" + " " * (i + 1) + "k:" for i in range(depth)) + f" *a{levels - 1}"
    lines.append(f"{key}: {value}")
    if draw(st.booleans()):
        lines.append(f"merged: {{<<: {{m: *a{draw(st.integers(0, levels - 1))}}}, n: 1}}")
    return "\n".join(lines) + "\n"


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(text=_alias_yaml(), as_space=st.booleans(), method=st.sampled_from(["kps", "lwr", "lort", "ce"]))
def test_fuzz_aliases_and_nesting_only_user_errors(text, as_space, method, tmp_path_factory):
    from ltsearch.config import config_from_dict, load_yaml
    from ltsearch.errors import LTSearchError
    from ltsearch.search.space import parse_space

    path = tmp_path_factory.mktemp("fz") / "a.yaml"
    path.write_text(text)
    try:
        raw = load_yaml(path)
        if as_space:
            parse_space({**raw, "method": method}, str(path), method=method)
        else:
            config_from_dict(raw, where=str(path))
    except LTSearchError as err:
        line = str(err).strip()
        assert "\n" not in line and len(line) < 1000, line[:2000]


# ---- numeric flags: nan, inf, huge, negative -----------------------------------------------------
_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                     st.sampled_from([0, 1, 2, -1, 0.5, 1.5, 2**32, 2**31 - 1, 1e308, -1e308, 1e23]))
_NUMERIC_FLAGS = ["trials", "epochs", "grid_points", "grace_period", "reduction_factor", "gpus_per_trial",
                  "cpus_per_trial", "max_concurrent", "num_cpus", "imbalance_ratio", "retries", "seed"]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(values=st.dictionaries(st.sampled_from(_NUMERIC_FLAGS), _numbers, min_size=1, max_size=4))
def test_fuzz_numeric_flags_only_user_errors(values, tmp_path_factory):
    """``check_request`` answers every numeric flag value with a one-line error or accepts it; what it
    accepts is finite and inside the flag's range (no value reaches Ray, Optuna or a generator)."""
    import math

    from ltsearch.errors import LTSearchError
    from ltsearch.search.request import SearchRequest, check_request

    work = tmp_path_factory.mktemp("flags")
    req = SearchRequest(method="kps", storage_path=str(work / "trials"),
                        tracking_uri=f"sqlite:///{work / 'mlflow.db'}", **values)
    saved = os.environ.get("CUDA_VISIBLE_DEVICES")
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    try:
        check_request(req)
    except LTSearchError as err:
        assert "\n" not in str(err).strip() and len(str(err)) < 400, str(err)
        return
    finally:
        if saved is None:
            os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        else:
            os.environ["CUDA_VISIBLE_DEVICES"] = saved
    for name, v in values.items():  # accepted: finite, in range
        assert math.isfinite(v), (name, v)
    assert 1 <= req.trials <= 10**6 and 0 <= req.seed < 2**32 and req.cpus_per_trial <= (req.num_cpus or os.cpu_count())
    assert (req.reduction_factor is None or req.reduction_factor > 1) and not req.gpus_per_trial and list(work.iterdir()) == []
