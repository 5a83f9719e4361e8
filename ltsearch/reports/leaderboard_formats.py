"""A leaderboard (:mod:`ltsearch.reports.leaderboard`) written out: ``table`` (rich; fits 160
columns, drops columns below 150 / 120 / 100), ``markdown``, ``csv`` (one column per knob), ``html``
(standalone, fits 1400 px, sortable best first, run ids link to the MLflow UI of a tracking server),
``json``; and the markdown / CSV forms read back.

Each budget is one table: its params cell shows only the knobs that vary there (3-4 significant
digits), the others go on its ``fixed:`` line. The markdown / CSV forms are deterministic (fixed
order, fixed float formatting) so that ``leaderboards/<experiment>.md`` / ``.csv`` diff well when
committed.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ltsearch.errors import LTSearchError
from ltsearch.reports.fmt import (
    DASH,
    NOT_EVALUATED,
    NOT_REPORTED,
    fmt_float,
    fmt_knob,
    fmt_pm,
    fmt_value,
    higher_is_better,
    same,
)
from ltsearch.reports.leaderboard import GROUPS, Leaderboard
from ltsearch.reports.output import write_text
from ltsearch.tracking import default_tracking_uri
from ltsearch.tracking.names import ui_url

FORMATS = ("table", "markdown", "csv", "html", "json")
PAPER_DEFAULT = "paper default"  # the mark of a run of the paper's recipe (in the kind cell)
TERMINAL_WIDTH = 160  # `render(board, "table")`: the width of a wide terminal


def _kind_text(row: dict) -> str:
    if row["kind"] == "paper":
        return "paper"
    if row["kind"] == "final":
        text = f"final ({row['seeds']} seed{'s' if row['seeds'] != 1 else ''})"
    else:
        text = "trial" if row["status"] in ("completed", "") else f"trial ({row['status']})"
    return f"{text}, {PAPER_DEFAULT}" if row.get("paper_default") else text


def display_columns(metric: str) -> list[str]:
    return ["rank", "kind", "method", "params", metric, "test", "many", "medium", "few", "epochs",
            "tuned on test", "search", "run"]


def terminal_columns(metric: str, width: int | None = None) -> list[str]:
    """The terminal's columns at ``width``: all but ``tuned on test`` (each budget's title and the
    papers' table say it) from 150 columns; below, ``search``; below 120, ``epochs`` and ``run``;
    below 100, ``kind`` (said under the method instead)."""
    drop = {"tuned on test"}
    if width is not None and width < 150:
        drop.add("search")
    if width is not None and width < 120:
        drop |= {"epochs", "run"}
    if width is not None and width < 100:
        drop.add("kind")
    return [c for c in display_columns(metric) if c not in drop]


def varying_keys(rows: list[dict]) -> tuple[list[str], dict[str, Any]]:
    """(the param names whose values differ between the ``rows`` that have them, ``{name: value}``
    of the others). A knob of one method never varies because another method's rows lack it."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row["params"] if k not in keys]
    varying, fixed = [], {}
    for k in keys:
        vals = [row["params"][k] for row in rows if k in row["params"]]
        if any(not same(v, vals[0]) for v in vals[1:]):
            varying.append(k)
        else:
            fixed[k] = vals[0]
    return varying, fixed


def knob_labels(keys: list[str]) -> dict[str, str]:
    """Display names of knobs: ``optim.lr`` -> ``lr`` (unless a method knob is called ``lr`` too);
    a method's knobs are already short (``m_max``). The CSV keeps the full names."""
    names = set(keys)
    out = {}
    for k in keys:
        short = k.removeprefix("optim.")
        out[k] = short if short == k or short not in names else k
    return out


def _knobs(params: dict, labels: dict[str, str]) -> list[str]:
    return [f"{labels.get(k, k)}={fmt_knob(v)}" for k, v in params.items()]


def fixed_line(rows: list[dict], fixed: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    """``fixed: momentum=0.9; kps: n_base=50, margins=paper; ldam-drw: beta=0.9999``: the knobs
    with one value in a budget's rows, under the methods that have them (none named: all)."""
    labels = labels or knob_labels(list(fixed))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    owned: dict[tuple, list[str]] = {}
    for k in fixed:
        owners = tuple(m for m in methods if any(k in r["params"] for r in rows if r["method"] == m))
        owned.setdefault(owners, []).append(k)
    parts = []
    for owners, keys in sorted(owned.items(), key=lambda kv: (len(kv[0]) < len(methods),
                                                              methods.index(kv[0][0]) if kv[0] else 0)):
        text = ", ".join(_knobs({k: fixed[k] for k in keys}, labels))
        parts.append(text if len(owners) == len(methods) or not owners else f"{' & '.join(owners)}: {text}")
    return ("fixed: " + "; ".join(parts)) if parts else ""


@dataclass
class Section:
    """One table of a board: a budget's ranked rows (or the papers' rows) with its title, the
    knobs that vary there (one per row's params cell) and the fixed line."""

    title: str
    rows: list[dict]
    shown: list[str] | None  # None: the papers' rows (their model instead of params)
    labels: dict[str, str]
    fixed: str
    tuned_on_test: bool


def sections(board: Leaderboard) -> list[Section]:
    out = []
    for label, rows in board.groups:
        shown, fixed = varying_keys(rows)
        labels = knob_labels(list(dict.fromkeys(k for r in rows for k in r["params"])))
        on_test = all(r["tuned_on_test"] for r in rows)
        out.append(Section(f"Budget: {label}" + (" (tuned on the test set)" if on_test else ""), rows, shown,
                           labels, fixed_line(rows, fixed, labels), on_test))
    if board.reference:
        out.append(Section("Papers' reported numbers (rank ref, not ranked; their own budgets; tuned on the "
                           "test set)", board.reference, None, {}, "", True))
    return out


def display_cells(row: dict, shown: list[str] | None = None, labels: dict[str, str] | None = None,
                  compact: bool = False) -> list[str]:
    """Human cells (table / markdown / html), in :func:`display_columns` order: mean ± std for
    final rows, ``—`` for an empty shot group, ``n/e`` for numbers never evaluated (a trial
    stopped before its test evaluation), ``n/r`` for a number a paper does not report;
    ``shown``: the params to print (the ones that vary; the fixed ones go in a header line) under
    ``labels``; ``compact``: the std under the mean (``81.25\n±0.32``, narrow number columns)."""
    paper = row["kind"] == "paper"
    not_evaluated = not paper and row["test_acc"] is None
    params = row["params"] if shown is None else {k: v for k, v in row["params"].items() if k in shown}

    def pm(mean, std):
        if paper and mean is None:
            return NOT_REPORTED
        text = fmt_pm(mean, std)
        return text.replace(" ± ", "\n±") if compact else text

    return [
        str(row["rank"]),
        _kind_text(row),
        row["method"],
        ", ".join(_knobs(params, labels or {})) if not paper else (row["model"] or ""),
        "" if paper else pm(row["val"], row["val_std"]),
        *(NOT_EVALUATED if not_evaluated else pm(row[f"test_{g}"], row[f"test_{g}_std"]) for g in GROUPS),
        "" if row["epochs"] is None else str(row["epochs"]),
        "yes (paper)" if row["kind"] == "paper" else ("yes" if row["tuned_on_test"] else ""),
        row["search"] if row["kind"] != "paper" else row["note"],
        row["run_id"][:8] if row["run_id"] else "",
    ]


def run_url(board: Leaderboard, row: dict) -> str | None:
    """The MLflow UI page of a row's run where the store is a tracking server (http / https)."""
    uri = board.tracking_uri or ""
    if not uri.startswith(("http://", "https://")) or not row.get("run_id") or not row.get("experiment_id"):
        return None
    return ui_url(uri, str(row["experiment_id"]), row["run_id"])


def store_of(board: Leaderboard) -> str:
    if board.tracking_uri:
        return board.tracking_uri
    return default_tracking_uri()


def title_of(board: Leaderboard) -> str:
    """The experiment, and the flags that filtered the board (a part of it is never taken for all of it)."""
    return f"{board.experiment} ({board.filters})" if board.filters else board.experiment


def empty_note(board: Leaderboard) -> str:
    """What an empty board says: the store it read and how to read another (or, for a filtered board,
    that the filter kept nothing)."""
    if board.filters:
        return (f"No finished runs of {board.experiment} match {board.filters} in the store {store_of(board)}"
                + ("; the papers' numbers only." if board.reference else "."))
    return (f"No finished runs of {board.experiment} in the store {store_of(board)}; read another store with "
            f"--tracking-uri FILE.db or URI (or MLFLOW_TRACKING_URI)"
            + ("; the papers' numbers only." if board.reference else "."))


def csv_columns(metric: str, knobs: list[str] = ()) -> list[str]:
    cols = ["rank", "kind", "method", *(f"param:{k}" for k in knobs), metric, f"{metric} std"]
    for g in GROUPS:
        cols += [f"test/{g}", f"test/{g} std"]
    return cols + ["epochs", "budget", "seeds", "status", "tuned_on_test", "paper_default", "model", "search",
                   "run_id", "source_run", "note"]


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
                "paper_default": "yes" if row.get("paper_default") else "no",
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
            elif k in ("tuned_on_test", "paper_default"):
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
    return (f"Ranked by `best/{board.metric}` (each run's value at its best epoch) within each budget "
            f"(model, epochs, validation protocol): rows of different budgets are never ranked together. "
            f"`params`: only the knobs that differ between a budget's rows; the others are on its `fixed:` line. "
            f"Test columns are top-1 accuracy (%) overall / many / medium / few shot: {DASH} = empty group "
            f"(no class in it), {NOT_EVALUATED} = not evaluated (a trial stopped before its test evaluation), "
            f"{NOT_REPORTED} = not reported by the paper. "
            f"`final` rows are mean ± std over seeds. `{PAPER_DEFAULT}` = the paper's recipe: a search's paper "
            f"point (every searched knob at the paper's value, its first trial) at the row's budget, or "
            f"`ltsearch train --preset` unchanged. `ref` rows are the papers' reported numbers, not ranked; the "
            f"papers tuned on the test set. `tuned on test` marks rows whose validation set was the test set "
            f"(the papers' protocol).")


def _md_table(cols: list[str], sec: Section, board: Leaderboard) -> list[str]:
    metric = board.metric
    lines = ([_md_escape(sec.fixed), ""] if sec.fixed else []) + ["| " + " | ".join(cols) + " |",
             "|" + "|".join("---:" if c in (metric, "test", "many", "medium", "few", "epochs") else "---"
                            for c in cols) + "|"]
    for row in sec.rows:
        cells = [_md_escape(c) for c in display_cells(row, sec.shown, sec.labels)]
        url = run_url(board, row)
        if url and cells[-1]:
            cells[-1] = f"[{cells[-1]}](<{url}>)"
        lines.append("| " + " | ".join(cells) + " |")
    if not sec.rows:
        lines.append("| " + " | ".join("" for _ in cols) + " |")
    return lines


def to_markdown(board: Leaderboard) -> str:
    cols = display_columns(board.metric)
    lines = [f"# Leaderboard: {_md_escape(title_of(board))}", "", legend(board), ""]
    if not board.ranked:
        lines += [_md_escape(empty_note(board)), ""]
    secs = sections(board)
    if not board.groups:  # an empty board keeps its (empty) table
        secs.insert(0, Section("", [], [], {}, "", False))
    for sec in secs:
        if sec.title:
            lines += [f"## {_md_escape(sec.title)}", ""]
        lines += _md_table(cols, sec, board) + [""]
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
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 8px}p.legend{color:#555;font-size:13px;max-width:1100px}p.empty{color:#a60}
table{border-collapse:collapse;font-size:13px;max-width:100%}
th,td{border:1px solid #ddd;padding:3px 6px;white-space:nowrap;vertical-align:top}
th{background:#f0f3f7;cursor:pointer;user-select:none;position:sticky;top:0}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr:nth-child(even) td{background:#fafafa}
th{white-space:normal}td.params{white-space:normal;min-width:16em}span.nw{white-space:nowrap}
span.std{color:#666;font-size:12px}
tr.budget td,tr.refhead td{white-space:normal;background:#e8eef6;font-weight:600}
tr.budget span.fixed{font-weight:normal;color:#444}
tbody.ref td{background:#fff8e6;color:#664}tr.test td{color:#a33}td.rank{font-weight:bold}
tr.paper-default td.kind{font-weight:bold}
"""

_HTML_JS = """
document.querySelectorAll('table.board').forEach(function(table){
  var ths = table.querySelectorAll('thead th');
  ths.forEach(function(th, col){
    th.addEventListener('click', function(){
      // first click: best first (data-best: the column's better direction); the next click reverses
      var best = th.getAttribute('data-best') === 'desc' ? 'desc' : 'asc';
      var dir = th.getAttribute('data-dir') === best ? (best === 'desc' ? 'asc' : 'desc') : best;
      ths.forEach(function(h){h.removeAttribute('data-dir'); h.classList.remove('sorted-asc','sorted-desc');});
      th.setAttribute('data-dir', dir);
      th.classList.add('sorted-' + dir);
      function key(r){var t = r.cells[col].getAttribute('data-v') || r.cells[col].textContent;
        var n = parseFloat(t); return isNaN(n) ? t.toLowerCase() : n;}
      table.querySelectorAll('tbody.runs').forEach(function(body){
        var rows = Array.from(body.querySelectorAll('tr.row'));
        rows.sort(function(a, b){var x = key(a), y = key(b);
          if (typeof x !== typeof y) return (typeof x === 'number' ? -1 : 1);  // blanks, n/e, — last
          return (x < y ? -1 : x > y ? 1 : 0) * (dir === 'desc' ? -1 : 1);});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
});
"""


def _best_direction(col: str, metric: str) -> str:
    if col in ("test", "many", "medium", "few"):
        return "desc"
    if col == metric:
        return "desc" if higher_is_better(metric) else "asc"
    return "asc"  # rank 1 first; names A to Z; fewest epochs first


def to_html(board: Leaderboard) -> str:
    """A standalone page that fits 1400 px: the params and header cells wrap (between knobs, never
    inside one), a final row's std goes under its mean, the paper-default mark under the kind;
    a header click sorts each budget best first."""
    cols = display_columns(board.metric)
    numeric = {board.metric, "test", "many", "medium", "few", "epochs", "rank"}
    esc = html_lib.escape

    def cell_html(c: str, text: str, row: dict) -> str:
        if c == "params" and text and row["kind"] != "paper":
            return ", ".join(f'<span class="nw">{esc(k)}</span>' for k in text.split(", "))
        if c == "kind":
            return "<br>".join(esc(k) for k in text.split(", "))
        if " ± " in text:  # a final row: the std under the mean (narrow number columns)
            mean, std = text.split(" ± ")
            return f'{esc(mean)}<br><span class="std">± {esc(std)}</span>'
        if c == "run":
            url = run_url(board, row)
            if url and text:
                return f'<a href="{esc(url)}">{esc(text)}</a>'
        return esc(text)

    def tr(row: dict, sec: Section) -> str:
        tds = []
        for c, text in zip(cols, display_cells(row, sec.shown, sec.labels)):
            cls = ("num " if c in numeric else "") + {"rank": "rank", "params": "params", "kind": "kind"}.get(c, "")
            sort_v = text.split(" ± ")[0] if text not in (DASH, "") else ""
            tds.append(f'<td class="{cls.strip()}" data-v="{esc(sort_v)}">{cell_html(c, text, row)}</td>')
        cls = "row" if row["kind"] != "paper" else "refrow"
        cls += " test" if row["tuned_on_test"] else ""
        cls += " paper-default" if row.get("paper_default") else ""
        return f'<tr class="{cls}">' + "".join(tds) + "</tr>"

    head = "".join(f'<th data-best="{_best_direction(c, board.metric)}">{esc(c)}</th>' for c in cols)
    ncols = len(cols)
    parts = []
    for sec in sections(board):
        fixed = f' <span class="fixed">{esc(sec.fixed)}</span>' if sec.fixed else ""
        if sec.shown is None:
            parts.append(f'<tbody class="ref"><tr class="refhead"><td colspan="{ncols}">{esc(sec.title)}</td></tr>\n'
                         + "\n".join(tr(r, sec) for r in sec.rows) + "\n</tbody>")
        else:
            parts.append(f'<tbody class="runs"><tr class="budget"><td colspan="{ncols}">{esc(sec.title)}{fixed}'
                         "</td></tr>\n" + "\n".join(tr(r, sec) for r in sec.rows) + "\n</tbody>")
    empty = "" if board.ranked else f'<p class="empty">{esc(empty_note(board))}</p>\n'
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Leaderboard: {esc(title_of(board))}</title><style>{_HTML_CSS}</style></head>\n<body>\n"
        f"<h1>Leaderboard: {esc(title_of(board))}</h1>\n<p class=\"legend\">{esc(legend(board))} "
        "Click a column header to sort each budget (best first; click again to reverse).</p>\n"
        f"{empty}<table id=\"leaderboard\" class=\"board\"><thead><tr>{head}</tr></thead>\n"
        + "\n".join(parts) + "\n</table>\n"
        f"<script>{_HTML_JS}</script>\n</body></html>\n"
    )


def to_rich_table(board: Leaderboard, width: int | None = None):
    """The terminal leaderboard (a rich renderable): one table per budget, titled with the budget
    and its ``fixed:`` line, then the papers' rows and the legend. Numbers never wrap (a final
    row's std goes under its mean); params wrap between knobs; :func:`terminal_columns` drops
    columns at narrow widths."""
    # rich (0.05 s) only for a terminal table: a bad --format or dataset is answered without it
    from rich import box
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    all_cols = display_columns(board.metric)
    keep = terminal_columns(board.metric, width)
    numeric = (board.metric, "test", "many", "medium", "few", "epochs", "rank")
    out: list = [Text(f"{board.experiment}: ranked by best/{board.metric}", style="bold")]
    if not board.ranked:
        out.append(Text(empty_note(board), style="yellow"))
    for sec in sections(board):
        title = Text(sec.title, style="bold")
        if sec.fixed:
            title.append("\n" + sec.fixed, style="not bold")
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      padding=(0, 0), collapse_padding=True)
        for c in keep:
            table.add_column(c, justify="right" if c in numeric else "left",
                             no_wrap=c in numeric or c == "run", overflow="fold",
                             min_width=20 if c == "params" else None)
        for row in sec.rows:
            cells = dict(zip(all_cols, (escape(v) for v in display_cells(row, sec.shown, sec.labels,
                                                                          compact=True))))
            cells["kind"] = cells["kind"].replace(f", {PAPER_DEFAULT}", f"\n{PAPER_DEFAULT}")
            if "kind" not in keep and cells["kind"] not in ("trial", "paper"):
                cells["method"] += "\n" + cells["kind"]
            url = run_url(board, row)
            if url and cells["run"]:
                cells["run"] = f"[link={url}]{cells['run']}[/link]"
            style = "yellow" if row["kind"] == "paper" else ("red" if row["tuned_on_test"] else None)
            if row.get("paper_default"):
                style = f"bold {style}" if style else "bold"
            table.add_row(*(cells[c] for c in keep), style=style)
        out += [Text(""), table]
    out += [Text(""), Text(legend(board), style="dim")]
    return Group(*out)


def render(board: Leaderboard, fmt: str, width: int = TERMINAL_WIDTH) -> str:
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

        console = Console(record=True, width=width, file=io.StringIO())
        console.print(to_rich_table(board, width))
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
