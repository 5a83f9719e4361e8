"""Checks of user input made before Ray, MLflow or Optuna start: each failure is one
:class:`~ltsearch.errors.LTSearchError` line naming the flag, the value and the fix.

Everything here is cheap and imports no heavy library at module level: numbers and their
ranges, seeds, names and the paths they become, URI schemes, local files (an sqlite store
that is not one, a read-only or full disk), this machine's CPUs / GPUs. Network checks
(:func:`check_reachable`, :func:`cluster_capacity`) wait at most ``REACH_TIMEOUT_S``.
"""

from __future__ import annotations

import math
import os
import re
import reprlib
import shutil
import socket
import sqlite3
import subprocess
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from ltsearch.errors import LTSearchError

MAX_SEED = 2**32 - 1  # numpy's and torch's generators take seeds in [0, 2**32)
MAX_TRIALS = 1_000_000
MAX_EPOCHS = 100_000  # the space's epochs range (search/space.py SHARED)
MAX_GRID_POINTS = 10_000  # points of one grid (a whole search), and per numeric range
MAX_IMBALANCE_RATIO = 1e6
MAX_REDUCTION_FACTOR = 1_000.0
MAX_NAME_LEN = 100  # --name / --study: one path component (<= 255 bytes) plus the suffixes added to it
PATH_HEADROOM = 300  # what Tune / MLflow append below a search folder (trial dirs, checkpoints)
PATH_MAX = 4096
REACH_TIMEOUT_S = float(os.environ.get("LTSEARCH_REACH_TIMEOUT_S", "3"))
MIN_FREE_MB = float(os.environ.get("LTSEARCH_MIN_FREE_MB", "50"))  # below this a disk counts as full
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

TRACKING_SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "databricks")
OPTUNA_SCHEMES = ("sqlite", "postgresql", "mysql")
DB_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6
_repr.maxlevel = 3


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, in time bounded by ``limit`` (never expands a
    huge or recursive value: errors quote user input with this)."""
    text = _repr.repr(value) if not isinstance(value, str) else repr(value[: limit + 1])
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown_key(key: Any, limit: int = 60) -> str:
    """A key / name as written (no quotes), cut to ``limit`` characters."""
    text = key if isinstance(key, str) else shown(key, limit)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- numbers ------------------------------------------------------------------------------
def number(flag: str, value: Any, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, integer: bool = False, fix: str = "") -> None:
    """A finite number in ``[low, high]`` (``(low, high]`` with ``low_open``); an error names ``flag``."""
    lo = "(" if low_open else "["
    rng = f"{lo}{'-inf' if low is None else _bound(low)}, {'inf' if high is None else _bound(high)}]"
    hint = fix or f"use a value in {rng}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LTSearchError(f"{flag} {shown(value)} is not a number; {hint}")
    if isinstance(value, float) and not math.isfinite(value):
        raise LTSearchError(f"{flag} {value} is invalid: not a finite number; {hint}")
    if integer and isinstance(value, float) and not value.is_integer():
        raise LTSearchError(f"{flag} {value} is invalid: not a whole number; {hint}")
    if low is not None and (value < low or (low_open and value == low)) or high is not None and value > high:
        raise LTSearchError(f"{flag} {_num(value)} is out of range {rng}; {hint}")


def check_range(name: str, value, lo=None, hi=None, lo_open=False, hi_open=False) -> float:
    """A loss / schedule hyperparameter: raise LTSearchError unless lo (<|<=) value (<|<=) hi;
    return float(value)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise LTSearchError(f"{name}: {value!r} is not a number") from None
    ok = math.isfinite(v)
    if ok and lo is not None:
        ok = v > lo if lo_open else v >= lo
    if ok and hi is not None:
        ok = v < hi if hi_open else v <= hi
    if not ok:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        if lo is None:
            left = "("
        if hi is None:
            right = ")"
        raise LTSearchError(f"{name}: {value!r} is outside the valid range {left}{lo_s}, {hi_s}{right}")
    return v


def _bound(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:g}"


def _num(value: Any) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 40 else text[:20] + "..." + f" ({len(text)} digits)"


def check_seed(flag: str, value: Any) -> None:
    number(flag, value, low=0, high=MAX_SEED, integer=True,
           fix=f"use a seed in [0, 2**32 - 1] (numpy / torch generators), e.g. {flag} 0")


def check_seeds(flag: str, seeds: Iterable[int]) -> None:
    """Every seed in range, each once (a repeated seed would count one run twice in mean ± std)."""
    seen: set[int] = set()
    for s in seeds:
        check_seed(flag, s)
        if s in seen:
            raise LTSearchError(f"{flag}: seed {s} is given twice; list each seed once, e.g. {flag} 0,1,2")
        seen.add(s)


# ---- names and paths ------------------------------------------------------------------------
def check_name(flag: str, name: str | None, storage: str | Path | None = None) -> None:
    """A search / study name: one safe path component, short enough for every path it becomes."""
    if name is None:
        return
    if len(name) > MAX_NAME_LEN:
        raise LTSearchError(f"{flag} {shown(name, 40)} is too long ({len(name)} characters); use at most "
                            f"{MAX_NAME_LEN} (it names folders and files)")
    if not NAME_RE.fullmatch(name):
        raise LTSearchError(f"{flag} {shown(name)} is invalid; use letters, digits, '.', '_' and '-'")
    if storage is not None and "://" not in str(storage):
        full = len(str(Path(storage).expanduser().absolute() / name)) + PATH_HEADROOM
        if full > PATH_MAX:
            raise LTSearchError(f"{flag} {name}: the search folder under {shown(str(storage), 40)} would exceed "
                                f"the {PATH_MAX}-character path limit; use a shorter --storage-path or --name")


_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/")


def check_storage_path(flag: str, path: str | Path) -> None:
    """A local (or shared-filesystem) folder: cloud URIs are refused (also ``s3:/x``, what a ``Path``
    makes of ``s3://x``)."""
    text = str(path)
    m = _SCHEME_RE.match(text)
    if m:
        raise LTSearchError(f"{flag} {shown(text)}: {m.group(1)}:// storage is not supported; give a local folder "
                            f"or a shared filesystem mounted at the same path on every node")
    if not text.strip() or "\0" in text:
        raise LTSearchError(f"{flag} {shown(text)} is not a folder path; give e.g. {flag} trials")
    if len(text) > PATH_MAX - PATH_HEADROOM:
        raise LTSearchError(f"{flag} is {len(text)} characters long; give a path of at most "
                            f"{PATH_MAX - PATH_HEADROOM} characters")
    check_writable(flag, Path(text).expanduser())


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_writable(flag: str, path: Path) -> None:
    """``path`` (a folder, existing or to be created) can be written: not a file, not on a read-only
    or full disk."""
    if path.exists() and not path.is_dir():
        raise LTSearchError(f"{flag} {shown(str(path))} is a file, not a folder; give a folder")
    check_disk(flag, _existing_ancestor(path), path)


def check_disk(flag: str, folder: Path, shown_path: Path) -> None:
    if not folder.is_dir():
        raise LTSearchError(f"{flag} {shown(str(shown_path))}: {folder} is not a folder; give a path in a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LTSearchError(f"{flag} {shown(str(shown_path))}: {folder} is read-only; give a writable location")
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < MIN_FREE_MB * 2**20:
        raise LTSearchError(f"{flag} {shown(str(shown_path))}: the disk of {folder} is full ({free / 2**20:.0f} MB "
                            f"free, need {MIN_FREE_MB:g} MB); free some space or write elsewhere")


def check_sqlite_file(flag: str, path: Path, uri: str, write: bool = True) -> None:
    """An sqlite store: absent (created later, in a writable folder) or a readable sqlite database;
    ``write=False`` (reports): only what is there must be a database."""
    if path.is_dir():
        raise LTSearchError(f"{flag} {_q(uri)}: {path} is a folder; give a database file, e.g. {path}/mlflow.db")
    if path.exists():
        _check_sqlite_db(flag, path, uri)
        if write and not os.access(path, os.W_OK):
            raise LTSearchError(f"{flag} {_q(uri)}: {path} is read-only; give a writable database")
    if write:
        check_disk(flag, _existing_ancestor(path.parent), path)


def _check_sqlite_db(flag: str, path: Path, uri: str) -> None:
    bad = f"{flag} {_q(uri)}: {path} is not a usable sqlite database"
    fix = "move it away (a new store is created) or give another file"
    try:
        size = path.stat().st_size
        if size == 0:
            return  # an empty file is an empty database
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as err:
        raise LTSearchError(f"{bad} ({err.strerror}); {fix}") from None
    if len(head) < 100 or not head.startswith(b"SQLite format 3\0"):
        raise LTSearchError(f"{bad} (not an sqlite file); {fix}")
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    valid_for, changes = head[92:96], head[24:28]
    if page < 512 or size % page or (pages and valid_for == changes and size < pages * page):
        raise LTSearchError(f"{bad} (truncated: {size} bytes); {fix}")

    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=REACH_TIMEOUT_S)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as err:
        if "locked" in str(err).lower():
            return
        raise LTSearchError(f"{bad} ({err}); {fix}") from None


# ---- URIs -----------------------------------------------------------------------------------
def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""


def check_tracking_uri(flag: str, uri: str | None, write: bool = True) -> None:
    """An MLflow store ltsearch can use: ``sqlite:///file.db`` (or a bare ``*.db`` path), an MLflow
    server ``http(s)://``, a database URL; checks a local sqlite file (see :func:`check_sqlite_file`)."""
    if uri is None:
        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if not uri:
            check_sqlite_file(flag, Path.cwd() / "mlflow.db", "./mlflow.db", write)
            return
        flag = "MLFLOW_TRACKING_URI"
    if not uri.strip() or "\0" in uri:
        raise LTSearchError(f"{flag} {_q(uri)} is empty; give sqlite:///path/mlflow.db or http://host:5000")
    if "://" not in uri and not uri.startswith("sqlite:"):
        path = Path(uri).expanduser()
        if path.is_dir() or path.suffix != ".db":
            raise LTSearchError(f"{flag} {_q(uri)}: a folder or non-.db path would be a file store, which MLflow 3 "
                                f"no longer writes; give a database file, e.g. {flag} {Path(uri) / 'mlflow.db'}")
        check_sqlite_file(flag, path.absolute(), uri, write)
        return
    scheme = _scheme(uri) if "://" in uri else "sqlite"
    if scheme not in TRACKING_SCHEMES:
        raise LTSearchError(f"{flag} {_q(uri)}: unsupported scheme '{scheme}'; use sqlite:///path/mlflow.db, "
                            f"http(s)://mlflow-server:5000 or postgresql:// / mysql:// (a database URL)")
    if scheme == "sqlite":
        path = _sqlite_path(flag, uri)
        if path is not None:
            check_sqlite_file(flag, path, uri, write)
    elif scheme in ("http", "https"):
        _check_http_url(flag, uri)
    elif scheme in DB_PORTS:
        _db_url(flag, uri)


def _sqlite_path(flag: str, url: str) -> Path | None:
    """The file of ``sqlite:///rel.db`` / ``sqlite:////abs.db`` (None: in memory)."""
    if not url.startswith("sqlite:///"):
        if url in ("sqlite://", "sqlite:"):
            return None
        raise LTSearchError(f"{flag} {_q(url)}: an sqlite URL has three slashes and a file: "
                            f"sqlite:///path/to/file.db")
    rest = url[len("sqlite:///"):].split("?", 1)[0]
    if rest in ("", ":memory:"):
        return None
    return Path(rest).expanduser().absolute()


def _check_http_url(flag: str, uri: str) -> None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as err:
        raise LTSearchError(f"{flag} {_q(uri)} is not a valid URL ({err}); give http://host:5000") from None
    if not parts.hostname:
        raise LTSearchError(f"{flag} {_q(uri)} names no host; give http://host:5000")


def _db_url(flag: str, url: str):
    """A SQLAlchemy URL (parsed lazily); its DBAPI driver must be installed."""
    # Optuna's storage layer: only a given --optuna-storage URL needs it (0.1 s on every command otherwise)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
        dialect = parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as err:
        raise LTSearchError(f"{flag} {_q(url)} is not a valid database URL ({shown(str(err), 60)}); give e.g. "
                            f"postgresql://user:password@host:5432/dbname") from None
    try:
        dialect.import_dbapi()
    except ImportError as err:
        raise LTSearchError(f"{flag} {_q(url)}: the database driver is not installed ({err.name or err}); "
                            f"install it, e.g. pip install psycopg2-binary (PostgreSQL) or pymysql (MySQL)") from None
    if parsed.get_backend_name() != "sqlite" and not parsed.host:
        raise LTSearchError(f"{flag} {_q(url)} names no host; give e.g. postgresql://user:password@host:5432/db")
    return parsed


def check_optuna_storage(flag: str, url: str | None) -> None:
    """An Optuna RDB storage URL: sqlite / postgresql / mysql (SQLAlchemy URLs)."""
    if url is None:
        return
    scheme = _scheme(url)
    if scheme not in OPTUNA_SCHEMES:
        raise LTSearchError(f"{flag} {_q(url)}: unsupported storage; use sqlite:///path/optuna.db, "
                            f"postgresql://user:password@host/db or mysql://user:password@host/db")
    if scheme == "sqlite":
        path = _sqlite_path(flag, url)
        if path is not None:
            check_sqlite_file(flag, path, url)
        _db_url(flag, url)
    else:
        _db_url(flag, url)


def _password_hidden(url: str) -> str:
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)


def _q(uri: str) -> str:
    """A URI as quoted in an error: password hidden, cut short."""
    return shown(_password_hidden(uri))


def check_reachable(flag: str, uri: str | None) -> None:
    """A server / database named by ``uri`` answers within ``REACH_TIMEOUT_S`` (HTTP GET of MLflow's
    ``/health``; a TCP connect for database URLs). Local stores pass."""
    if uri is None:
        return
    scheme = _scheme(uri)
    if scheme in ("http", "https"):  # urllib.request loads http.client and ssl: only for an http store
        import urllib.error
        import urllib.request

        url = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(url, timeout=REACH_TIMEOUT_S):  # noqa: S310 - scheme checked above
                return
        except urllib.error.HTTPError:
            return  # the server answered (e.g. 404 behind a proxy, 401 without credentials)
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            reason = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
            raise LTSearchError(f"{flag} {_q(uri)}: the MLflow server does not answer within "
                                f"{REACH_TIMEOUT_S:g} s ({shown_key(reason)}); start it or check the URL") from None
    elif scheme in DB_PORTS:
        parsed = _db_url(flag, uri)
        check_tcp(flag, parsed.host, parsed.port or DB_PORTS[scheme], _password_hidden(uri), "the database")


def check_tcp(flag: str, host: str, port: int, what: str, kind: str) -> None:
    try:
        with socket.create_connection((host, int(port)), timeout=REACH_TIMEOUT_S):
            return
    except (OSError, ValueError) as err:
        reason = "timed out" if isinstance(err, socket.timeout) else (err.strerror or str(err))
        raise LTSearchError(f"{flag} {shown(what)}: {kind} at {host}:{port} does not answer within "
                            f"{REACH_TIMEOUT_S:g} s ({reason}); start it or check the address") from None


# ---- resources ------------------------------------------------------------------------------
def local_gpu_count() -> int:
    """GPUs this machine offers to a local Ray, found without importing torch: CUDA_VISIBLE_DEVICES,
    else ``nvidia-smi -L`` (none without it; torch only when nvidia-smi is there but fails)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v for v in visible.split(",") if v.strip()]
        return 0 if not ids or ids[0].strip().startswith("-") else len(ids)
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0

    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10).stdout
        return sum(1 for line in out.splitlines() if line.startswith("GPU "))
    except (OSError, subprocess.SubprocessError):
        import torch

        return torch.cuda.device_count()


def check_trial_fits(cpus: float, gpus: float | None, node_cpus: float, node_gpus: float, where: str) -> None:
    """One trial's CPUs / GPUs fit on one node (else Ray would wait for it forever)."""
    if cpus > node_cpus:
        raise LTSearchError(f"--cpus-per-trial {cpus:g}: {where} has {node_cpus:g} CPUs per node, so no trial could "
                            f"start; use --cpus-per-trial <= {node_cpus:g}")
    if gpus and gpus > node_gpus:
        have = f"{node_gpus:g} GPUs per node" if node_gpus else "no GPU"
        raise LTSearchError(f"--gpus-per-trial {gpus:g}: {where} has {have}, so no trial could start; use "
                            f"--gpus-per-trial {'0' if not node_gpus else f'<= {node_gpus:g}'}")


def ray_address_parts(address: str) -> tuple[str, int] | None:
    """(host, port) of ``host:port`` / ``ray://host:port``; None for ``auto`` / ``local``."""
    text = address[len("ray://"):] if address.startswith("ray://") else address
    if text in ("auto", "local"):
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise LTSearchError(f"--ray-address {shown(address)} is invalid; give HOST:PORT (e.g. head-host:6379), "
                            f"ray://HOST:10001 or auto")
    return host.strip("[]"), int(port)


def check_train_flags(epochs: int | None, out: Path | None, seeds: str | None, tracking_uri: str | None) -> None:
    """``ltsearch train``'s flags, before the config is read: epochs, the output folder and, with
    ``--seeds`` (final runs go to MLflow), the tracking store."""
    if epochs is not None:
        number("--epochs", epochs, low=1, high=MAX_EPOCHS, integer=True)
    check_writable("--output", Path(out) if out is not None else Path("trials"))
    if seeds is not None:
        check_tracking_uri("--tracking-uri", tracking_uri)
        check_reachable("--tracking-uri" if tracking_uri else "MLFLOW_TRACKING_URI",
                        tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"))
