"""Fault injection for the kill-and-resume tests: ``LTSEARCH_FAULT=POINT[:N][:SIGNAL]`` sends
SIGNAL (default KILL) to the driver itself the N-th time (default 1) it passes POINT.

Points: ``start`` (the data not yet loaded, no state file; Ray starting on its thread), ``open``
(the state file written, no MLflow run yet), ``ray`` (MLflow and Optuna open, Ray not yet joined),
``epoch`` (an epoch result recorded), ``run-done`` (a run recorded as finished), ``close`` (every
run finished, the parent's summary not yet written). Unset, it costs one dict lookup per call.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    spec = os.environ.get("LTSEARCH_FAULT")
    if not spec:
        return
    point, _, rest = spec.partition(":")
    if point != name:
        return
    count, _, sig = rest.partition(":")
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(count or 1):
        os.kill(os.getpid(), getattr(signal, f"SIG{(sig or 'KILL').upper()}"))
