"""Leaderboards from MLflow: ranked trial / final rows plus the papers' reference rows.

* one row per finished trial (completed, or stopped early by ASHA; failed trials are left
  out): the search metric at its best epoch (max over the metric's per-epoch history), the
  final test numbers (overall / many / medium / few; an empty group is ``—``, never 0),
  epochs run, search, run id;
* final multi-seed runs (``ltsearch.kind=final``) grouped by their source trial (or by
  identical params) as mean ± std over the seeds;
* the papers' reported numbers as reference rows (rank ``ref``, kind ``paper``), never ranked;
* rows whose validation was the test set (``ltsearch.val_protocol=test``) are flagged.

Formats: ``table`` (rich), ``markdown``, ``csv``, ``html`` (standalone, sortable), ``json``.
The markdown / CSV forms are deterministic (fixed order, fixed float formatting) so that
``leaderboards/<experiment>.md`` / ``.csv`` diff well when committed.
"""

from __future__ import annotations

import csv
import hashlib
import html as html_lib
import io
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltsearch.errors import LTSearchError
from ltsearch.methods import METHODS
from ltsearch.presets import reported_rows
from ltsearch.reports.fmt import (
    DASH,
    NOT_EVALUATED,
    fmt_float,
    fmt_params,
    fmt_pm,
    fmt_value,
    higher_is_better,
    num,
    objective,
    same,
    short_key,
)
from ltsearch.reports.output import write_text
from ltsearch.tracking import (
    TAG_METHOD,
    TAG_SEARCH,
    TAG_SEED,
    TAG_SOURCE_RUN,
    TAG_SOURCE_SEARCH,
    TAG_STATUS,
    TAG_VAL_PROTOCOL,
    reader,
)
from ltsearch.tracking.reader import parse_param

TAG_BUDGET = "ltsearch.budget"  # planned epochs of a trial (all stages; at its rung for `--scheduler sh`)
TAG_RUNG = "ltsearch.rung"  # successive-halving rung of a trial run
GROUPS = ("acc", "many", "medium", "few")
FORMATS = ("table", "markdown", "csv", "html", "json")
# flattened config keys that never count as "key params" of a row
_NOT_KEY = {"seed", "device", "amp", "channels_last", "compile", "dataset.root", "dataset.download",
            "dataset.name", "dataset.imbalance_ratio", "eval_every", "method.name"}


@dataclass
class Leaderboard:
    experiment: str
    metric: str
    rows: list[dict] = field(default_factory=list)  # ranked rows first, then reference rows
    tracking_uri: str | None = None

    @property
    def ranked(self) -> list[dict]:
        return [r for r in self.rows if r["kind"] != "paper"]

    @property
    def reference(self) -> list[dict]:
        return [r for r in self.rows if r["kind"] == "paper"]

    @property
    def groups(self) -> list[tuple[str, list[dict]]]:
        """The ranked rows by budget, in board order: ``[(budget label, rows), ...]``."""
        out: dict[str, list[dict]] = {}
        for row in self.ranked:
            out.setdefault(row["budget"], []).append(row)
        return list(out.items())


def budget_of(run: dict) -> dict[str, Any]:
    """A run's budget: model, planned epochs (tag ``ltsearch.budget``, else ``epochs`` plus a
    decoupled method's ``stage2_epochs``) and validation protocol. Only rows of one budget are
    comparable (issue 12: a 6-epoch trial never ranks among 26-epoch ones)."""
    tags, params = run["tags"], run["params"]
    epochs = num(tags.get(TAG_BUDGET))
    if epochs is None:
        e = num(parse_param(params.get("epochs")))
        s2 = num(parse_param(params.get("method.params.stage2_epochs")))
        epochs = None if e is None else e + (s2 or 0)
    val = tags.get(TAG_VAL_PROTOCOL) or ("test" if params.get("dataset.val") == "test" else "split")
    return {"model": params.get("model.name", "") or "?", "epochs": None if epochs is None else int(epochs),
            "val": val}


def budget_label(b: dict[str, Any]) -> str:
    return f"{b['model']}, {'?' if b['epochs'] is None else b['epochs']} epochs, val {b['val']}"


# ---- building rows ---------------------------------------------------------------------
def _key_params(method: str, runs: list[dict]) -> list[str]:
    """Flattened keys shown as the method's key params: its registry params present in the runs,
    then any other config key whose value varies across the runs (a searched knob like optim.lr)."""
    try:
        registry = list(METHODS.get(method).params)
    except LTSearchError:
        registry = []
    present = set().union(*(r["params"].keys() for r in runs)) if runs else set()
    keys = [f"method.params.{p}" for p in registry if f"method.params.{p}" in present]
    others = sorted(k for k in present if k not in keys and k not in _NOT_KEY
                    and not k.startswith("method.params.") and len({r["params"].get(k) for r in runs}) > 1)
    extra_method = sorted(k for k in present if k.startswith("method.params.") and k not in keys)
    return keys + extra_method + others


def _params_of(run: dict, keys: list[str]) -> dict[str, Any]:
    return {short_key(k): parse_param(run["params"][k]) for k in keys if k in run["params"]}


def _trial_row(run: dict, metric: str, history: list, keys: list[str]) -> dict | None:
    m = run["metrics"]
    val, epoch = objective(run, metric, history)
    if val is None:
        return None
    epochs = num(m.get("epochs_run"))
    if epochs is None and history:
        epochs = max(s for s, _ in history)
    tags = run["tags"]
    row = _empty_row("trial", tags.get(TAG_METHOD) or run["params"].get("method.name", "?"))
    row.update({
        "params": _params_of(run, keys),
        "val": val,
        "best_epoch": epoch,
        "epochs": int(epochs) if epochs is not None else None,
        "status": tags.get(TAG_STATUS) or ("completed" if run["status"] == "FINISHED" else run["status"].lower()),
        "search": tags.get(TAG_SEARCH, ""),
        "run_id": run["run_id"],
        "experiment_id": run.get("experiment_id"),
        "model": run["params"].get("model.name", ""),
        "tuned_on_test": tags.get(TAG_VAL_PROTOCOL) == "test" or run["params"].get("dataset.val") == "test",
        "budget": budget_label(budget_of(run)),
        "budget_epochs": budget_of(run)["epochs"],
        "rung": tags.get(TAG_RUNG),
    })
    for g in GROUPS:
        row[f"test_{g}"] = num(m.get(f"test/{g}"))
    return row


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    vals = [v for v in values if v is not None]
    if not vals:
        return None, None
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def _final_rows(runs: list[dict], metric: str, keys_of: dict[str, list[str]]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        src = run["tags"].get(TAG_SOURCE_RUN)
        if src:
            key = ("source", src)
        else:
            flat = sorted((k, v) for k, v in run["params"].items() if k != "seed")
            key = ("params", hashlib.sha1(repr(flat).encode()).hexdigest())
        groups.setdefault(key, []).append(run)
    rows = []
    for (_, ident), members in groups.items():
        members.sort(key=lambda r: (int(r["tags"].get(TAG_SEED, r["params"].get("seed", 0)) or 0), r["run_id"]))
        first = members[0]
        method = first["tags"].get(TAG_METHOD) or first["params"].get("method.name", "?")
        row = _empty_row("final", method)
        vals = [objective(r, metric)[0] for r in members]
        row["val"], row["val_std"] = _mean_std(vals)
        for g in GROUPS:
            row[f"test_{g}"], row[f"test_{g}_std"] = _mean_std([num(r["metrics"].get(f"test/{g}")) for r in members])
        epochs = [num(r["metrics"].get("epochs_run")) for r in members]
        epochs = [e for e in epochs if e is not None]
        row.update({
            "params": _params_of(first, keys_of.get(method) or _key_params(method, members)),
            "epochs": int(max(epochs)) if epochs else None,
            "status": "completed",
            "seeds": len(members),
            "seed_list": [r["tags"].get(TAG_SEED, r["params"].get("seed")) for r in members],
            "search": first["tags"].get(TAG_SOURCE_SEARCH, ""),
            "run_id": first["run_id"],
            "run_ids": [r["run_id"] for r in members],
            "source_run": first["tags"].get(TAG_SOURCE_RUN, ""),
            "model": first["params"].get("model.name", ""),
            "tuned_on_test": any(r["tags"].get(TAG_VAL_PROTOCOL) == "test" for r in members),
            "budget": budget_label(budget_of(first)),
            "budget_epochs": budget_of(first)["epochs"],
        })
        if row["val"] is not None:
            rows.append(row)
    return rows


def _empty_row(kind: str, method: str) -> dict:
    row: dict[str, Any] = {"rank": None, "kind": kind, "method": method, "params": {}, "val": None,
                           "val_std": None, "best_epoch": None, "epochs": None, "status": "", "seeds": None,
                           "search": "", "run_id": "", "source_run": "", "model": "", "tuned_on_test": False,
                           "note": "", "budget": "", "budget_epochs": None, "rung": None}
    for g in GROUPS:
        row[f"test_{g}"] = None
        row[f"test_{g}_std"] = None
    return row


def reference_rows(dataset: str, imbalance_ratio: float | None, method: str | None = None) -> list[dict]:
    """The papers' numbers for ``dataset`` as leaderboard rows (rank ``ref``, kind ``paper``)."""
    rows = []
    for rep in reported_rows(dataset, imbalance_ratio):
        if method is not None and rep["method"] != method:
            continue
        row = _empty_row("paper", rep["method"] + (f" ({rep['variant']})" if rep.get("variant") else ""))
        row["rank"] = "ref"
        row["model"] = rep.get("model", "") or ""
        row["note"] = rep.get("source", "") or ""
        if rep.get("imbalance_ratio") is not None and imbalance_ratio is None:
            row["note"] = f"IR {rep['imbalance_ratio']:g}; {row['note']}"
        for g in GROUPS:
            row[f"test_{g}"] = num(rep.get(g))
        rows.append(row)
    rows.sort(key=lambda r: (-(r["test_acc"] or 0.0), r["method"], r["model"], r["note"]))
    return rows


def _ratio_of(experiment: str, dataset: str) -> float | None:
    suffix = experiment[len(dataset):]
    if suffix.startswith("-ir"):
        try:
            return float(suffix[3:])
        except ValueError:
            return None
    return None


def build(dataset: str, imbalance_ratio: float | None = None, *, method: str | None = None,
          metric: str = "val/acc", top: int | None = None, tracking_uri: str | None = None,
          reference: bool = True, search: str | None = None, budget: int | None = None) -> Leaderboard:
    """The leaderboard of ``dataset``'s experiment (see the module docstring).

    Rows are ranked within their budget (model, epochs, val protocol); the largest budget comes
    first; ``budget`` keeps only the rows of that many epochs; ``top`` applies to each budget.
    """
    experiment = reader.resolve_experiment(dataset, imbalance_ratio, tracking_uri)
    ratio = imbalance_ratio if imbalance_ratio is not None else _ratio_of(experiment, dataset)
    trials = reader.trial_runs(experiment, tracking_uri, method=method, search=search)
    finals = [] if search else reader.final_runs(experiment, tracking_uri, method=method)
    by_method: dict[str, list[dict]] = {}
    for run in trials:
        by_method.setdefault(run["tags"].get(TAG_METHOD) or run["params"].get("method.name", "?"), []).append(run)
    keys_of = {m: _key_params(m, runs) for m, runs in by_method.items()}
    histories = reader.metric_histories([r["run_id"] for r in trials], metric, tracking_uri)
    rows = []
    for run in trials:
        m = run["tags"].get(TAG_METHOD) or run["params"].get("method.name", "?")
        row = _trial_row(run, metric, histories.get(run["run_id"], []), keys_of[m])
        if row is not None:
            rows.append(row)
    rows.extend(_final_rows(finals, metric, keys_of))
    if budget is not None:
        have = sorted({r["budget_epochs"] for r in rows if r["budget_epochs"] is not None})
        rows = [r for r in rows if r["budget_epochs"] == budget]
        if not rows and have:
            raise LTSearchError(f"--budget {budget}: no rows of {budget} epochs in {experiment}; budgets there: "
                                f"{', '.join(map(str, have))}")
    sign = -1 if higher_is_better(metric) else 1
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["budget"], []).append(row)
    order = sorted(grouped, key=lambda b: (-(grouped[b][0]["budget_epochs"] or 0), -len(grouped[b]), b))
    rows = []
    for b in order:
        group = sorted(grouped[b], key=lambda r: (sign * r["val"], 0 if r["kind"] == "final" else 1, r["run_id"]))
        if top is not None:
            group = group[:max(top, 0)]
        for i, row in enumerate(group, 1):
            row["rank"] = i
        rows.extend(group)
    if reference:
        rows.extend(reference_rows(dataset, ratio, method))
    return Leaderboard(experiment=experiment, metric=metric, rows=rows, tracking_uri=tracking_uri)


# ---- formatting ------------------------------------------------------------------------
def _kind_text(row: dict) -> str:
    if row["kind"] == "paper":
        return "paper"
    if row["kind"] == "final":
        return f"final ({row['seeds']} seeds)"
    return "trial" if row["status"] in ("completed", "") else f"trial ({row['status']})"


def display_columns(metric: str) -> list[str]:
    return ["rank", "kind", "method", "params", metric, "test", "many", "medium", "few", "epochs",
            "tuned on test", "search", "run"]


def varying_keys(rows: list[dict]) -> tuple[list[str], dict[str, Any]]:
    """(the param names whose values differ between ``rows``, ``{name: value}`` of the others)."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row["params"] if k not in keys]
    varying, fixed = [], {}
    for k in keys:
        vals = [row["params"].get(k) for row in rows]
        if len(rows) > 1 and any(not same(v, vals[0]) for v in vals[1:]):
            varying.append(k)
        else:
            fixed[k] = vals[0]
    return varying, fixed


def display_cells(row: dict, shown: list[str] | None = None) -> list[str]:
    """Human cells (table / markdown / html): mean ± std for final rows, ``—`` for an empty shot
    group, ``n/e`` for numbers never evaluated (a trial stopped before its test evaluation);
    ``shown``: the params to print (the ones that vary; the fixed ones go in a header line)."""
    not_evaluated = row["kind"] != "paper" and row["test_acc"] is None
    params = row["params"] if shown is None else {k: v for k, v in row["params"].items() if k in shown}
    return [
        str(row["rank"]),
        _kind_text(row),
        row["method"],
        fmt_params(params) if row["kind"] != "paper" else (row["model"] or ""),
        fmt_pm(row["val"], row["val_std"]),
        *(NOT_EVALUATED if not_evaluated else fmt_pm(row[f"test_{g}"], row[f"test_{g}_std"]) for g in GROUPS),
        "" if row["epochs"] is None else str(row["epochs"]),
        "yes (paper)" if row["kind"] == "paper" else ("yes" if row["tuned_on_test"] else ""),
        row["search"] if row["kind"] != "paper" else row["note"],
        row["run_id"][:8] if row["kind"] == "trial" else (row["run_id"][:8] if row["run_id"] else ""),
    ]


def csv_columns(metric: str, knobs: list[str] = ()) -> list[str]:
    cols = ["rank", "kind", "method", *(f"param:{k}" for k in knobs), metric, f"{metric} std"]
    for g in GROUPS:
        cols += [f"test/{g}", f"test/{g} std"]
    return cols + ["epochs", "budget", "seeds", "status", "tuned_on_test", "model", "search", "run_id", "source_run",
                   "note"]


def csv_record(row: dict, metric: str) -> dict[str, str]:
    def std(v):
        return "" if v is None else f"{v:.2f}"

    rec = {"rank": str(row["rank"]), "kind": row["kind"], "method": row["method"],
           **{f"param:{k}": fmt_value(v, sig=6) for k, v in row["params"].items()},
           metric: fmt_float(row["val"]), f"{metric} std": std(row["val_std"])}
    for g in GROUPS:
        rec[f"test/{g}"] = fmt_float(row[f"test_{g}"])
        rec[f"test/{g} std"] = std(row[f"test_{g}_std"])
    rec.update({"epochs": "" if row["epochs"] is None else str(row["epochs"]), "budget": row["budget"],
                "seeds": "" if row["seeds"] is None else str(row["seeds"]),
                "status": row["status"], "tuned_on_test": "yes" if row["tuned_on_test"] else "no",
                "model": row["model"], "search": row["search"], "run_id": row["run_id"],
                "source_run": row["source_run"], "note": row["note"]})
    return rec


def to_csv(board: Leaderboard) -> str:
    buf = io.StringIO()
    knobs: list[str] = []
    for row in board.rows:
        knobs += [k for k in row["params"] if k not in knobs]
    writer = csv.DictWriter(buf, fieldnames=csv_columns(board.metric, knobs), lineterminator="\n", restval="")
    writer.writeheader()
    for row in board.rows:
        writer.writerow(csv_record(row, board.metric))
    return buf.getvalue()


def read_csv(text: str) -> list[dict[str, Any]]:
    """Parse a leaderboard CSV back: numbers as floats, ``—`` / empty as None."""
    out = []
    for rec in csv.DictReader(io.StringIO(text)):
        row: dict[str, Any] = {}
        for k, v in rec.items():
            if v in ("", DASH):
                row[k] = None
            elif k == "rank":
                row[k] = v if v == "ref" else int(v)
            elif k in ("epochs", "seeds"):
                row[k] = int(v)
            elif k == "tuned_on_test":
                row[k] = v == "yes"
            else:
                try:
                    row[k] = float(v) if k not in ("method", "kind", "status", "model", "search", "run_id",
                                                   "source_run", "note", "budget") and not k.startswith("param:") \
                        else v
                except ValueError:
                    row[k] = v
        out.append(row)
    return out


def to_json(board: Leaderboard) -> str:
    rows = []
    for row in board.rows:
        rec = {k: v for k, v in row.items()}
        rows.append(rec)
    return json.dumps({"experiment": board.experiment, "metric": board.metric, "rows": rows},
                      indent=2, default=str) + "\n"


def _md_escape(text: str) -> str:
    """A cell as inert Markdown: HTML special characters escaped (no raw <script> from a tag or a
    param), pipes escaped, newlines folded."""
    return html_lib.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def legend(board: Leaderboard) -> str:
    return (f"Ranked by `best/{board.metric}` (each trial's value at its best epoch), within each budget "
            f"(model, epochs, validation protocol): rows of different budgets are never ranked together. "
            f"Test columns are top-1 accuracy (%) overall / many / medium / few shot ({DASH} = empty group). "
            f"`final` rows are mean ± std over seeds. `ref` rows are the papers' reported numbers, not "
            f"ranked; the papers tuned on the test set. `tuned on test` marks rows whose validation set "
            f"was the test set (the papers' protocol).")


def _fixed_line(fixed: dict[str, Any]) -> str:
    return "fixed in every row: " + (", ".join(f"{k}={fmt_value(v)}" for k, v in fixed.items()) or "nothing")


def _md_table(cols: list[str], rows: list[dict], metric: str) -> list[str]:
    shown, fixed = varying_keys([r for r in rows if r["kind"] != "paper"])
    lines = ([_md_escape(_fixed_line(fixed)), ""] if fixed else []) + ["| " + " | ".join(cols) + " |",
             "|" + "|".join("---:" if c in (metric, "test", "many", "medium", "few", "epochs") else "---"
                            for c in cols) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_md_escape(c) for c in display_cells(row, shown)) + " |")
    if not rows:
        lines.append("| " + " | ".join("" for _ in cols) + " |")
    return lines


def to_markdown(board: Leaderboard) -> str:
    cols = display_columns(board.metric)
    lines = [f"# Leaderboard: {_md_escape(board.experiment)}", "", legend(board), ""]
    for label, rows in board.groups or [("", [])]:
        if label:
            lines += [f"## Budget: {_md_escape(label)}", ""]
        lines += _md_table(cols, rows, board.metric) + [""]
    if board.reference:
        lines += ["## Papers' reported numbers (their budgets, tuned on test)", ""]
        lines += _md_table(cols, board.reference, board.metric) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def parse_markdown_table(text: str) -> list[dict[str, str]]:
    """The table of a markdown leaderboard as dicts (header -> cell)."""
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    if len(lines) < 2:
        return []

    def split(ln: str) -> list[str]:
        cells, cur, esc = [], "", False
        for ch in ln.strip()[1:-1]:
            if ch == "\\" and not esc:
                esc = True
                continue
            if ch == "|" and not esc:
                cells.append(cur.strip())
                cur = ""
            else:
                cur += ch
            esc = False
        cells.append(cur.strip())
        return cells

    header = split(lines[0])
    out = []
    for ln in lines[1:]:
        cells = split(ln)
        if cells == header or all(set(c) <= set("-:") and c for c in cells):
            continue  # the header and separator of the next budget's table
        out.append(dict(zip(header, (html_lib.unescape(c) for c in cells))))
    return out


_HTML_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 8px}p.legend{color:#555;font-size:13px;max-width:1100px}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;white-space:nowrap}
th{background:#f0f3f7;cursor:pointer;user-select:none;position:sticky;top:0}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#fafafa}
tbody.ref td{background:#fff8e6;color:#664}tr.test td{color:#a33}td.rank{font-weight:bold}
"""

_HTML_JS = """
document.querySelectorAll('thead th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var desc = !th.classList.contains('sorted-desc');  // first click: best (largest) first
    document.querySelectorAll('thead th').forEach(function(h){h.classList.remove('sorted-asc','sorted-desc');});
    th.classList.add(desc ? 'sorted-desc' : 'sorted-asc');
    function key(r){var t = r.cells[col].getAttribute('data-v') || r.cells[col].textContent;
      var n = parseFloat(t); return isNaN(n) ? t.toLowerCase() : n;}
    document.querySelectorAll('tbody.runs').forEach(function(body){
      var rows = Array.from(body.querySelectorAll('tr.row'));
      rows.sort(function(a, b){var x = key(a), y = key(b);
        if (typeof x !== typeof y) return (typeof x === 'number' ? -1 : 1);
        return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);});
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
"""


def to_html(board: Leaderboard) -> str:
    cols = display_columns(board.metric)
    numeric = {board.metric, "test", "many", "medium", "few", "epochs", "rank"}
    esc = html_lib.escape

    link = board.tracking_uri if board.tracking_uri and board.tracking_uri.startswith(("http://", "https://")) \
        else None

    def tr(row: dict, shown: list[str] | None = None) -> str:
        cells = display_cells(row, shown)
        tds = []
        for c, text in zip(cols, cells):
            cls = "num" if c in numeric else ""
            if c == "rank":
                cls += " rank"
            sort_v = text.split(" ± ")[0] if text not in (DASH, "") else ""
            inner = esc(text)
            if c == "run" and link and row.get("run_id") and row.get("experiment_id"):
                url = f"{link.rstrip('/')}/#/experiments/{row['experiment_id']}/runs/{row['run_id']}"
                inner = f'<a href="{esc(url)}">{inner}</a>'
            tds.append(f'<td class="{cls.strip()}" data-v="{esc(sort_v)}">{inner}</td>')
        cls = "row test" if row["tuned_on_test"] else "row"
        return f'<tr class="{cls}">' + "".join(tds) + "</tr>"

    head = "".join(f"<th>{esc(c)}</th>" for c in cols)
    ncols = len(cols)
    parts = []
    for label, rows in board.groups:
        shown, fixed = varying_keys(rows)
        parts.append(f'<tbody class="runs"><tr class="budget"><td colspan="{ncols}">budget: {esc(label)}'
                     + (f"; {esc(_fixed_line(fixed))}" if fixed else "") + "</td></tr>\n"
                     + "\n".join(tr(r, shown) for r in rows) + "\n</tbody>")
    runs = "\n".join(parts)
    refs = "\n".join(tr(r) for r in board.reference)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Leaderboard: {esc(board.experiment)}</title><style>{_HTML_CSS}</style></head>\n<body>\n"
        f"<h1>Leaderboard: {esc(board.experiment)}</h1>\n<p class=\"legend\">{esc(legend(board))} "
        "Click a column header to sort.</p>\n"
        f"<table id=\"leaderboard\"><thead><tr>{head}</tr></thead>\n{runs}\n"
        f"<tbody class=\"ref\">\n{refs}\n</tbody></table>\n<script>{_HTML_JS}</script>\n</body></html>\n"
    )


def to_rich_table(board: Leaderboard, width: int | None = None):
    """The terminal table; below 150 columns the search / run columns are left out and the
    tuned-on-test marker joins the kind cell."""
    # rich (0.05 s) only for a terminal table: a bad --format or dataset is answered without it
    from rich.markup import escape
    from rich.table import Table

    narrow = width is not None and width < 150
    cols = display_columns(board.metric)
    keep = [c for c in cols if not (narrow and c in ("search", "run", "tuned on test"))]
    table = Table(title=f"{board.experiment}: ranked by {board.metric}", caption=legend(board),
                  caption_justify="left")
    for c in keep:
        table.add_column(c, justify="right" if c in (board.metric, "test", "many", "medium", "few", "epochs",
                                                     "rank") else "left", overflow="fold")
    previous, shown = None, None
    groups = dict(board.groups)
    for row in board.rows:
        if row["kind"] != "paper" and row["budget"] != previous:
            shown, fixed = varying_keys(groups[row["budget"]])
            table.add_section()
            table.add_row(*([escape(f"budget: {row['budget']}") + (escape(f"; {_fixed_line(fixed)}") if fixed else "")]
                            + [""] * (len(keep) - 1)))
            previous = row["budget"]
        if row["kind"] == "paper":
            shown = None
        cells = {c: escape(v) for c, v in zip(cols, display_cells(row, shown))}
        if narrow and row["tuned_on_test"]:
            cells["kind"] += ", tuned on test"
        style = "yellow" if row["kind"] == "paper" else ("red" if row["tuned_on_test"] else None)
        table.add_row(*(cells[c] for c in keep), style=style)
    return table


def render(board: Leaderboard, fmt: str) -> str:
    if fmt == "markdown":
        return to_markdown(board)
    if fmt == "csv":
        return to_csv(board)
    if fmt == "html":
        return to_html(board)
    if fmt == "json":
        return to_json(board)
    if fmt == "table":
        from rich.console import Console

        console = Console(record=True, width=200, file=io.StringIO())
        console.print(to_rich_table(board))
        return console.export_text()
    raise LTSearchError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")


def export_files(board: Leaderboard, folder: str | Path = "leaderboards") -> list[Path]:
    """Write ``<folder>/<experiment>.md`` and ``.csv`` (the committed, diffable form)."""
    folder = Path(folder)

    md = folder / f"{board.experiment}.md"
    cs = folder / f"{board.experiment}.csv"
    write_text(md, to_markdown(board), flag="--export", mkdir=True)
    write_text(cs, to_csv(board), flag="--export", mkdir=True)
    return [md, cs]
