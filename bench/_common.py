"""What the benchmarks share: the app on a benchmark database, its seeding, and gunicorn with its clients.

The project's own modules are imported inside the functions, so that importing this module (as
every benchmark does before its options are read) stays cheap.
"""

from __future__ import annotations

import http.client
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "gunicorn.conf.py")
# The cheapest route, asked until the server answers (any status: the port opens before the workers fork).
READY_PATH = "/healthz"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- The app on the benchmark's database -------------------------------------------------------


def make_app(url: str, **config):
    """The real app on the benchmark database (a SQLAlchemy URL), rate limits off; `config` adds settings."""
    from directory import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark-only-secret-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="cst-bench-uploads-"),
            **config,
        }
    )


def remove_sqlite(path: str) -> None:
    """Delete a SQLite file and what SQLite keeps beside it (WAL, shared memory, journal)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def migrate_and_seed(count: int, seed: int) -> None:
    """In an app context: migrate its database to head and seed `count` demo practitioners.

    Without trainings and licences (`details=False`): no benchmark reads them.
    """
    from flask_migrate import upgrade

    from directory.demo import seed_demo

    upgrade()
    seed_demo(count=count, seed=seed, details=False)


# --- gunicorn and its clients ------------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


UNREACHABLE_LIMIT = "1000000 per minute"


def start_gunicorn(url: str, port: int, args, log, uploads: str) -> subprocess.Popen:
    """gunicorn serving wsgi:app with the production settings (gunicorn.conf.py) on the benchmark database.

    `args.workers` and `args.worker_threads`, when given, replace what gunicorn.conf.py chooses.
    """
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "UPLOAD_FOLDER": uploads,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        # Rate limits stay on but out of reach: every benchmark client is 127.0.0.1.
        **{name: UNREACHABLE_LIMIT for name in ("SEARCH_RATE_LIMIT", "API_RATE_LIMIT", "API_TOKEN_RATE_LIMIT")},
    }
    # Unless asked otherwise, the workers and threads gunicorn.conf.py chooses for this machine.
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    if args.worker_threads:
        env["WEB_THREADS"] = str(args.worker_threads)
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    if os.path.exists(CONFIG):
        command += ["--config", CONFIG]
    else:
        # Without the project's settings: the app loaded before the port opens, so the first request is timed alone.
        command += ["--preload", "--workers", str(args.workers or os.cpu_count() or 1)]
    return subprocess.Popen([*command, "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_gunicorn(server: subprocess.Popen, timeout: float) -> None:
    """Ask gunicorn to stop; kill it when it has not within `timeout` seconds."""
    server.terminate()
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def served_by(log_path: str) -> str:
    """What gunicorn says it runs: worker class and how many workers booted."""
    with open(log_path, encoding="utf-8", errors="replace") as lines:
        text = lines.read()
    kind = re.search(r"Using worker: (\w+)", text)
    return f"{text.count('Booting worker')} {kind.group(1) if kind else '?'} worker(s)"


def get(port: int, path: str) -> tuple[int, bytes]:
    """One GET on its own connection: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_serving(port: int, server: subprocess.Popen, timeout: float = 120) -> None:
    """Wait until a worker answers READY_PATH (any status: the port opens before the workers are forked).

    No search is asked: the first one is timed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            get(port, READY_PATH)
            return
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer")


class KeptAliveClient:
    """One client's connection to the server on 127.0.0.1, kept open between requests as nginx keeps its own."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int | None, bytes, bool]:
        """GET a path: (status, body, timed out); the status is None when no answer came.

        A kept-alive connection the server has since closed is opened again, once; a request that
        timed out is not asked again (its time is spent).
        """
        for _ in range(2):
            try:
                self.conn = self.conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.conn.request("GET", path, headers=headers or {})
                response = self.conn.getresponse()
                status, body = response.status, response.read()
                if response.will_close:
                    self.close()
                return status, body, False
            except TimeoutError:
                self.close()
                return None, b"", True
            except (OSError, http.client.HTTPException):
                self.close()
        return None, b"", False

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self.conn is not None:
            self.conn.close()
        self.conn = None
