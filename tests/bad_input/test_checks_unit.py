"""The check helpers on their own (``ltsearch/checks.py``): quoting, GPU counting, addresses, stores."""

from __future__ import annotations

import sqlite3

import pytest

from ltsearch import checks
from ltsearch.errors import LTSearchError


def test_shown_is_short_for_huge_and_recursive_values():
    huge = ["x" * 10**6] * 10**5
    rec: list = []
    rec.append(rec)
    for value in (huge, rec, "y" * 10**7, {i: [i] * 100 for i in range(1000)}, 2**5000):
        assert len(checks.shown(value)) <= 80


@pytest.mark.parametrize("visible,count", [("", 0), ("-1", 0), ("0", 1), ("0,1,2", 3), ("GPU-uuid-a,GPU-uuid-b", 2)])
def test_local_gpu_count_reads_cuda_visible_devices(visible, count, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert checks.local_gpu_count() == count


@pytest.mark.parametrize("address,parts", [("head:6379", ("head", 6379)), ("ray://10.0.0.1:10001", ("10.0.0.1", 10001)),
                                           ("auto", None), ("[::1]:6379", ("::1", 6379))])
def test_ray_address_parts(address, parts):
    assert checks.ray_address_parts(address) == parts


@pytest.mark.parametrize("address", ["head", "head:0", "head:99999", ":6379", "ray://"])
def test_ray_address_malformed(address):
    with pytest.raises(LTSearchError, match="--ray-address"):
        checks.ray_address_parts(address)


def test_whole_sqlite_store_passes_and_a_cut_one_fails(tmp_path):
    db = tmp_path / "mlflow.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (a TEXT)")
    con.executemany("INSERT INTO t VALUES (?)", [("z" * 300,)] * 100)
    con.commit()
    con.close()
    checks.check_tracking_uri("--tracking-uri", f"sqlite:///{db}")
    checks.check_tracking_uri("--tracking-uri", str(db))
    data = db.read_bytes()
    db.write_bytes(data[:5000])
    with pytest.raises(LTSearchError, match="truncated"):
        checks.check_tracking_uri("--tracking-uri", str(db))


def test_seeds_once_each():
    checks.check_seeds("--seeds", [0, 1, 2**32 - 1])
    with pytest.raises(LTSearchError, match="twice"):
        checks.check_seeds("--seeds", [3, 1, 3])
