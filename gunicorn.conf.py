"""gunicorn settings for `make serve` (and the systemd unit and the container): `gunicorn -c gunicorn.conf.py wsgi:app`.

Read from the environment:
  HOST, PORT          where to listen (127.0.0.1:8000 unless set; `make serve` passes its own)
  WEB_CONCURRENCY     worker processes (default: 2 per CPU core this process may use + 1)
  WEB_THREADS         threads per worker (default 2: a thread waiting on the database lets another run)
  WEB_TIMEOUT         seconds a request may take before its worker is restarted (default 30)
  LOG_FORMAT          json or text, as the app reads it (json by default when FLASK_ENV=production)
  PROMETHEUS_MULTIPROC_DIR  where the workers' metrics are shared (default: a new temporary folder)

The app writes the access log itself, one line per request (directory.requests: request id,
method, path with query parameter names but not their values, status, duration, user id),
so gunicorn's own access log, which would repeat every query string, stays off.
"""

import atexit
import os
import shutil
import tempfile

# Before the app (and prometheus_client) is imported: every worker writes its request counts
# here and /metrics adds them up (prometheus_client's multiprocess mode).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_folder = tempfile.mkdtemp(prefix="cst-metrics-")
    _master = os.getpid()
    # Removed when the master exits, even when the app failed to load (workers exit too: not theirs).
    atexit.register(lambda: os.getpid() == _master and shutil.rmtree(_own_folder, ignore_errors=True))

from directory.config import log_format  # noqa: E402  (after the environment is set)


def _whole(name: str, default: int) -> int:
    """A positive whole number from the environment, or a clear refusal to start."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise RuntimeError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


# The cores this process may run on (a container's or taskset's share, not the whole host's).
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{_whole('PORT', 8000)}"
workers = _whole("WEB_CONCURRENCY", 2 * cores + 1)
threads = _whole("WEB_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _whole("WEB_TIMEOUT", 30)
graceful_timeout = 30
# nginx keeps connections to the app open between requests.
keepalive = 5
# Restart a worker now and then (spread out), so that a slow leak can never grow for weeks.
max_requests = 10000
max_requests_jitter = 1000
# Load the app once in the master: the gazetteer, the time zone data and the search statements
# are then shared by every worker (see when_ready) instead of loaded by each.
preload_app = True
# Keep worker heartbeats off a disk-backed /tmp (gunicorn's advice for containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108  (gunicorn heartbeat files)

# No control socket (gunicornc): one per user by default, so two instances on one machine would collide.
control_socket_disable = True

errorlog = "-"
accesslog = None
loglevel = "info"
_env = os.environ.get("FLASK_ENV", os.environ.get("APP_ENV", "development"))
_formatter = (
    {"()": "directory.ops.logs.JsonFormatter"}
    if log_format(_env) == "json"
    else {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"}
)
# gunicorn's own messages go through the root logger in the app's format (one JSON object per line in production).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        # Alembic announces its plugins at import; migrations run in `flask db upgrade`, not here.
        "alembic": {"level": "WARNING"},
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "app", "stream": "ext://sys.stderr"}},
    "formatters": {"app": _formatter},
}


def on_starting(server):
    """A fresh start: forget the request counts of a previous run left in the metrics folder."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.endswith(".db") and os.path.isfile(path):
            os.unlink(path)


def when_ready(server):
    """In the master, before the first fork: load what requests would otherwise load on first use."""
    from directory.ops.warmup import warm_up

    warm_up(server.app.wsgi())


def post_fork(server, worker):
    """In each new worker: no database connection inherited from the master."""
    from directory.ops.warmup import after_fork

    after_fork(worker.app.wsgi())


def child_exit(server, worker):
    """A worker ended: its live gauges leave the metrics folder (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
