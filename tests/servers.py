"""Real server processes (gunicorn, threaded workers) for tests and benchmarks that need more than one.

Each process gets the same secret key, so a log-in made through one is valid
on the others, exactly as in a multi-process deployment.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
SECRET = "shared-by-every-test-process"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """``count`` different free ports (free_port twice may hand out the same one)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


#: The documented production settings (README, "Running on more than one machine").
DEPLOY_CONFIG = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"


class ServerProcess:
    """``gunicorn -k gthread`` serving ``wsgi:app`` on 127.0.0.1:port against ``database_url``.

    With ``config`` (e.g. ``DEPLOY_CONFIG``) gunicorn runs from that file instead, given the port,
    workers and threads through its ``LEDGER_BIND``/``LEDGER_WORKERS``/``LEDGER_THREADS`` variables.
    """

    def __init__(self, database_url: str, instance_path: Path, *, port: int | None = None, workers: int = 1,
                 threads: int = 32, env: dict[str, str] | None = None, config: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads
        self.config = config
        settings = {"LEDGER_BIND": f"127.0.0.1:{self.port}", "LEDGER_WORKERS": str(workers),
                    "LEDGER_THREADS": str(threads), "LEDGER_GRACEFUL_TIMEOUT": "2"} if config else {}
        self.env = {**os.environ, "DATABASE_URL": database_url, "LEDGER_SECRET_KEY": SECRET,
                    "LEDGER_INSTANCE_PATH": str(instance_path), **settings, **(env or {})}
        self.log_path = Path(instance_path) / f"server-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.config:
            return [str(GUNICORN), "--config", str(self.config)]
        return [str(GUNICORN), "-k", "gthread", "--workers", str(self.workers), "--threads", str(self.threads),
                "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "2", "wsgi:app"]

    def start(self, timeout: float = 30.0) -> ServerProcess:
        Path(self.log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            self.command(), cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/login", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer on {self.url}:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        """Graceful stop (SIGTERM to the whole process group), then SIGKILL if it lingers."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """Abrupt death, as in a crash: every worker of the group at once."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def running(servers: Sequence[ServerProcess]) -> Iterator[Sequence[ServerProcess]]:
    """Start the servers side by side, yield them, then kill them all.

    Killed, not stopped: open live streams would hold a graceful stop for their heartbeat interval, and the
    callers (tests, benchmarks) have their answers by then.
    """
    try:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(ServerProcess.start, servers))
        yield servers
    finally:
        for server in servers:
            server.kill()
