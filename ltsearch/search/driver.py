"""The search driver's process: Ray started on a thread while the driver loads (:class:`RayStart`),
SIGINT / SIGTERM turned into :class:`SearchInterrupted` (state saved, exit 128 + signal) and the
libraries' logging quietened. :mod:`ltsearch.search.engine` runs the search inside them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import warnings
from typing import Any

from ltsearch.search.request import SearchRequest


class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the search; its state is saved (``--resume`` continues it) unless
    ``saved`` is False (stopped before its state file was written: nothing to resume)."""

    def __init__(self, name: str, signum: int = signal.SIGINT, saved: bool = True):
        super().__init__(name)
        self.name, self.signum, self.saved = name, signum, saved

    @property
    def exit_code(self) -> int:
        return 128 + int(self.signum)


_early: list[int] = []  # signals held by :func:`held_signals` before the search's handlers were installed
_before_early: dict[int, Any] = {}  # the handlers :func:`held_signals` replaced (what a stop restores)


@contextlib.contextmanager
def held_signals():
    """Hold SIGINT / SIGTERM from a command's first line (its checks and imports take seconds):
    :class:`signals_as_interrupts` then stops the search at once. A SIGINT the shell set to be
    ignored (a background job's) stops it too, as it does once the search runs. The previous
    handlers come back when the command ends."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            _before_early[sig] = signal.signal(sig, lambda signum, frame: _early.append(signum))
        except ValueError:  # not the main thread (the API called from a thread)
            break
    try:
        yield
    finally:
        for sig, handler in _before_early.items():
            signal.signal(sig, handler)
        _before_early.clear()
        _early.clear()


REDELIVER_S = 1.0  # a SearchInterrupted that no handler acknowledged by then was swallowed: signal again


class signals_as_interrupts:
    """SIGTERM (Slurm's stop, ``kill``) and SIGINT stop the search like Ctrl-C: state saved,
    runs marked, exit code 128 + signal. Tune's own SIGINT handler is switched off.

    Python runs a signal handler between any two bytecodes of the main thread, so the exception
    can start where it does harm or is lost: inside importlib's own code (which then keeps the
    import lock: the driver hangs), or in a ``__del__`` / weakref callback (printed as "Exception
    ignored" and dropped: the search went on). So a signal that lands in importlib is delivered
    again a moment later, and one whose exception is not :meth:`acknowledge`-d within
    :data:`REDELIVER_S` is delivered again."""

    def __init__(self, name: str):
        self.name = name
        self.saved: dict[int, Any] = {}
        self.acknowledged = threading.Event()
        self.signum: int | None = None  # the first signal caught

    def __enter__(self):
        os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"
        self.arm()
        if _early:  # a signal came while the command started: stop before anything is written
            self.signum = _early.pop(0)
            self.acknowledge()
            raise SearchInterrupted(self.name, self.signum, saved=False)
        return self

    def arm(self) -> None:
        """(Re-)install the handlers: ``ray.init`` installs Ray's own C++ SIGTERM handler, which
        aborts the driver (exit -6) without any cleanup, so this runs again after Ray starts."""
        if self.acknowledged.is_set():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                previous = signal.signal(sig, self._raise)
            except ValueError:  # not the main thread
                continue
            self.saved.setdefault(sig, _before_early.get(sig, previous))  # never the holder of held_signals

    def acknowledge(self) -> None:
        """The interrupt reached the search's cleanup: no more re-delivery, and a second signal
        gets the previous handler (a second Ctrl-C is not caught again mid-cleanup)."""
        self.acknowledged.set()
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)

    def _raise(self, signum, frame):
        if frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            _deliver_later(signum, 0.02)  # raising here would leave the import lock held
            return
        if self.signum is None:
            self.signum = signum
            threading.Thread(target=self._watch, args=(signum,), name="ltsearch-signal", daemon=True).start()
        raise SearchInterrupted(self.name, signum)

    def _watch(self, signum: int) -> None:
        while not self.acknowledged.wait(REDELIVER_S):
            signal.pthread_kill(threading.main_thread().ident, signum)

    def __exit__(self, exc_type, exc, tb):
        lost = exc_type is None and self.signum is not None and not self.acknowledged.is_set()
        self.acknowledge()
        if lost:  # swallowed where the watchdog had no time to deliver it again
            raise SearchInterrupted(self.name, self.signum)
        return False


def _deliver_later(signum: int, delay_s: float) -> None:
    timer = threading.Timer(delay_s, signal.pthread_kill, (threading.main_thread().ident, signum))
    timer.daemon = True
    timer.start()


def quiet_libraries() -> None:
    for key, value in (("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1"), ("RAY_AIR_NEW_OUTPUT", "0"),
                       ("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "1000"),
                       ("TUNE_GLOBAL_CHECKPOINT_S", "30"), ("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0"),
                       ("MLFLOW_LOGGING_LEVEL", "WARNING"),
                       ("RAY_install_failure_signal_handler", "false")):  # no C++ stack dump on SIGTERM
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", module="optuna")
    warnings.filterwarnings("ignore", module="ray")
    for name, level in (("ray", logging.ERROR), ("ray.tune", logging.ERROR), ("mlflow", logging.WARNING),
                        ("alembic", logging.WARNING), ("optuna", logging.WARNING)):
        logging.getLogger(name).setLevel(level)


class RayStart:
    """``init_ray`` on a thread, started at once: ``ray.init`` mostly waits for Ray's own processes,
    so the driver loads the data and opens MLflow and Optuna meanwhile. :meth:`result` joins it (and
    raises its error); after an error elsewhere, :meth:`settle` / :meth:`abandon` join it and say
    whether this search started Ray (so that it is shut down)."""

    def __init__(self, req: SearchRequest):
        self.own, self.error, self._done = False, None, threading.Event()
        threading.Thread(target=self._run, args=(req,), name="ltsearch-ray", daemon=True).start()

    def _run(self, req: SearchRequest) -> None:
        try:
            self.own = init_ray(req)
        except BaseException as err:  # raised in the driver's thread by result()
            self.error = err
        finally:
            self._done.set()
        # Ray's processes die with the *thread* that started them (PR_SET_PDEATHSIG): this one stays
        # (a daemon: it ends with the driver, as they do)
        threading.Event().wait()

    def result(self) -> bool:
        self._done.wait()
        if self.error is not None:
            raise self.error
        return self.own

    def settle(self) -> bool:
        self._done.wait()
        return self.own

    def abandon(self) -> None:
        if self.settle():
            import ray

            ray.shutdown()


def init_ray(req: SearchRequest) -> bool:
    """Join ``--ray-address`` / RAY_ADDRESS, or start a local Ray; True when this call started it."""
    import ray

    if ray.is_initialized():
        return False
    address = req.ray_address or os.environ.get("RAY_ADDRESS")
    kw: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                              configure_logging=True)
    if address:
        ray.init(address=address, **kw)
    else:
        # "local": never join a cluster that `ray start` left on this machine (/tmp/ray/ray_current_cluster).
        # Trials run at the driver's priority: Ray's default nice 15 lets any other work on the
        # machine take their cores (bench P1); a user's RAY_worker_niceness is kept
        os.environ.setdefault("RAY_worker_niceness", "0")
        ray.init(address="local", num_cpus=req.num_cpus or os.cpu_count() or 1, **kw)
    return True
