"""Real services for the team-scale tests: a multi-node Ray cluster on loopback, a throw-away
PostgreSQL server and an ``mlflow server`` on top of it.

Every service is a process group this module started; ``stop()`` ends exactly that group
(never ``ray stop``, which would end every Ray on the machine, other people's included).
Ray nodes get their own ``--temp-dir`` (so a plain ``ray.init()`` elsewhere never finds this
cluster) and a token of their own (``RAY_AUTH_TOKEN_PATH``).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.5)
    tail = log.read_text()[-3000:] if log is not None and log.is_file() else ""
    raise RuntimeError(f"{what} did not come up in {timeout:.0f}s\n{tail}")


def _stop_group(proc: subprocess.Popen | None, grace: float = 20.0) -> None:
    """SIGTERM the process group started with ``start_new_session``; SIGKILL what is left."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    try:  # children (raylet, workers) that outlived their parent
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def _bin(name: str) -> str | None:
    """A PostgreSQL server binary: on PATH or in Debian's /usr/lib/postgresql/<v>/bin."""
    found = shutil.which(name)
    if found:
        return found
    cands = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return cands[-1] if cands else None


def postgres_available() -> bool:
    if not (_bin("initdb") and _bin("pg_ctl") and _bin("postgres")):
        return False
    if os.geteuid() == 0:  # postgres refuses to run as root: we need the postgres account
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return False
        return shutil.which("runuser") is not None
    return True


def psycopg2_available() -> bool:
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------
class Postgres:
    """``initdb`` into a fresh folder and ``pg_ctl start`` on a free loopback port (trust auth,
    loopback only). ``url(db)`` -> ``postgresql://ltsearch@127.0.0.1:PORT/db``."""

    USER = "ltsearch"

    def __init__(self):
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ltpg", dir="/tmp"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.started = False
        self._as = []
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *cmd: str) -> None:
        res = subprocess.run([*self._as, *cmd], capture_output=True, text=True, cwd=self.root)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")

    def start(self) -> "Postgres":
        self._run(_bin("initdb"), "-D", str(self.data), "-U", self.USER, "--auth=trust", "-E", "UTF8",
                  "--no-locale")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start")
        self.started = True
        return self

    def createdb(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.USER, dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        return self.url(name)

    def url(self, db: str) -> str:
        return f"postgresql://{self.USER}@127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if self.started:
            try:
                self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except Exception:
                pass
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


class MlflowServer:
    """``mlflow server`` on a free loopback port with the given backend store and a served
    artifact folder (``--artifacts-destination``)."""

    def __init__(self, backend_uri: str, artifacts: Path, log: Path):
        self.port = free_port()
        self.backend_uri = backend_uri
        self.artifacts = artifacts
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> "MlflowServer":
        self.artifacts.mkdir(parents=True, exist_ok=True)
        mlflow = shutil.which("mlflow") or str(Path(sys.executable).parent / "mlflow")
        cmd = [mlflow, "server", "--backend-store-uri", self.backend_uri, "--artifacts-destination",
               self.artifacts.resolve().as_uri(), "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", "1"]
        self.proc = subprocess.Popen(cmd, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
                                     start_new_session=True, env=dict(os.environ, MLFLOW_TRACKING_URI=""))

        def up():
            with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as r:
                return r.status == 200

        wait_for(up, timeout, "mlflow server", self.proc, self.log)
        return self

    def stop(self) -> None:
        _stop_group(self.proc, grace=15)
        self.proc = None


class RayCluster:
    """A head node and worker nodes started with ``ray start --block`` on 127.0.0.1, each with
    its own temp dir and ports, token authentication with a token of this cluster's own."""

    def __init__(self, cpus_per_node: int = 1):
        self.cpus = cpus_per_node
        # short path: Ray's unix sockets live under the temp dir (108-byte limit)
        self.root = Path(tempfile.mkdtemp(prefix="ltray", dir="/tmp"))
        self.token = self.root / "token"
        self.token.write_text(os.urandom(32).hex())
        self.port = free_port()
        self.procs: list[subprocess.Popen] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What a driver (or ``ray`` command) needs in its environment to join the cluster."""
        env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(self.token),
                   RAY_USAGE_STATS_ENABLED="0", RAY_ADDRESS=self.address)
        env.pop("RAY_AUTH_TOKEN", None)
        return env

    def _node(self, i: int, head: bool) -> None:
        ray = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
        cmd = [ray, "start", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", str(self.cpus),
               "--num-gpus", "0", "--temp-dir", str(self.root / f"n{i}"), "--disable-usage-stats",
               "--node-manager-port", str(free_port()), "--object-manager-port", str(free_port()),
               "--dashboard-agent-listen-port", str(free_port()), "--dashboard-agent-grpc-port", str(free_port()),
               "--runtime-env-agent-port", str(free_port()), "--metrics-export-port", str(free_port()),
               "--object-store-memory", str(200 * 1024 ** 2)]
        if head:
            cmd += ["--head", "--port", str(self.port), "--include-dashboard", "false",
                    "--dashboard-port", str(free_port())]
        else:
            cmd += ["--address", self.address]
        env = self.env
        env.pop("RAY_ADDRESS")
        log = self.root / f"n{i}.log"
        self.procs.append(subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=self.root,
                                           start_new_session=True, env=env))

    def nodes_alive(self) -> int:
        code = ("import ray; ray.init(logging_level='ERROR'); "
                "print(sum(1 for n in ray.nodes() if n['Alive']))")
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=self.env,
                             timeout=60, cwd=self.root)
        return int(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 and res.stdout.strip() else 0

    def start(self, nodes: int = 2, timeout: float = 180) -> "RayCluster":
        self._node(0, head=True)
        deadline = time.time() + timeout
        wait_for(lambda: self.nodes_alive() >= 1, max(10, deadline - time.time()), "Ray head", self.procs[0],
                 self.root / "n0.log")
        for i in range(1, nodes):
            self._node(i, head=False)
        wait_for(lambda: self.nodes_alive() >= nodes, max(10, deadline - time.time()), f"{nodes} Ray nodes",
                 self.procs[-1], self.root / f"n{nodes - 1}.log")
        return self

    def stop(self) -> None:
        for p in reversed(self.procs):  # workers first, then the head
            _stop_group(p)
        self.procs = []
        shutil.rmtree(self.root, ignore_errors=True)
