"""Running the site as a service: gunicorn, health checks, request logs, metrics."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from flask import request

from directory import create_app
from directory.extensions import db
from directory.models.base import utcnow
from directory.ops.logs import JsonFormatter, loggable_path
from tests.conftest import base_config, login

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    """GET a URL of the running server: status, headers, body (an error status is an answer too)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  (our own loopback server)
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


def _server_env(tmp_path: Path, **extra: str) -> dict:
    """The environment of a server started by a test: its own SQLite database and uploads."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PROMETHEUS_", "WEB_", "LOG_"))}
    env.update(
        DATABASE_URL="sqlite:///" + str(tmp_path / "served.sqlite"),
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
        RATELIMIT_STORAGE_URI="memory://",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _stop(server: subprocess.Popen) -> str:
    """Stop gunicorn as a service manager does (SIGTERM), and return what it wrote."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        output, _ = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        output, _ = server.communicate()
    return output


# --- gunicorn ----------------------------------------------------------------------------------


def test_gunicorn_serves_the_site_with_several_workers_and_adds_up_their_metrics(tmp_path):
    """make serve's server: migrated database, health, a page, request ids, JSON logs, metrics of all workers."""
    port = _free_port()
    env = _server_env(
        tmp_path, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="2", WEB_THREADS="2", LOG_FORMAT="json"
    )
    subprocess.run(
        [str(PYTHON_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [str(PYTHON_BIN / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, f"gunicorn stopped: {server.communicate()[0]}"
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 3 minutes"
            time.sleep(0.5)

        status, _, body = _get(base + "/readyz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, headers, body = _get(base + "/search?near=10001&condition=tmj", {"X-Request-ID": "lb-trace-42"})
        assert status == 200 and "Practitioners near" in body
        assert headers["X-Request-ID"] == "lb-trace-42"
        # Spread over both workers (the kernel picks one per connection): /metrics, answered by one
        # of them, must still count all twelve.
        for _ in range(12):
            assert _get(base + "/")[0] == 200
        status, _, metrics = _get(base + "/metrics")
        assert status == 200
        home = re.search(r'cst_http_request_duration_seconds_count\{endpoint="public.home",[^}]*\} (\S+)', metrics)
        assert home and float(home.group(1)) == 12.0, metrics
    finally:
        output = _stop(server)

    assert server.returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line is one JSON object
    assert any(line.get("message", "").startswith("Booting worker") for line in lines)
    searches = [line for line in lines if line["logger"] == "directory.requests" and line["path"].startswith("/search")]
    assert searches == [searches[0]] and searches[0]["request_id"] == "lb-trace-42"
    assert searches[0]["path"] == "/search?near&condition" and "10001" not in output
    assert not any(line.get("path") in {"/healthz", "/readyz"} for line in lines)


def test_gunicorn_refuses_to_start_in_production_with_a_weak_secret_key(tmp_path):
    """FLASK_ENV=production with an example key: gunicorn stops at once and says why."""
    env = _server_env(tmp_path, PORT=str(_free_port()), FLASK_ENV="production", SECRET_KEY="changeme")
    result = subprocess.run(
        [str(PYTHON_BIN / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a long random value" in result.stdout + result.stderr


# --- health checks -----------------------------------------------------------------------------


def test_ready_when_the_database_is_migrated_and_redis_answers(database_url, tmp_path):
    """/readyz says ok on the migrated database with Redis as the rate-limit store."""
    app = create_app({**base_config(database_url, str(tmp_path)), "RATELIMIT_STORAGE_URI": REDIS_URL})
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_not_ready_when_migrations_are_behind_or_redis_is_down_but_alive(tmp_path):
    """An unmigrated database and an unreachable Redis: /readyz is 503 and says both; /healthz still 200."""
    config = base_config("sqlite:///" + str(tmp_path / "empty.sqlite"), str(tmp_path))
    app = create_app({**config, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"})
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    problems = response.get_json()["problems"]
    assert problems[0].startswith("database not migrated to head: at no revision, expected 0")
    assert "flask --app wsgi db upgrade" in problems[0]
    assert problems[1] == "rate-limit storage (Redis) unreachable at RATELIMIT_STORAGE_URI"
    assert client.get("/healthz").status_code == 200


def test_not_ready_when_the_database_cannot_be_reached(tmp_path):
    """A database that is not there: 503 naming the database, without its address or driver message."""
    config = base_config("postgresql+psycopg://nobody@127.0.0.1:1/none", str(tmp_path))
    client = create_app({**config, "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}}).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "problems": ["database unreachable (OperationalError)"]}
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_health_checks_are_exempt_from_rate_limits_and_the_request_log(database_url, tmp_path, caplog):
    """With a limit of 2 a minute on every route (and an app-wide one), load balancers get every answer, unlogged."""
    config = {
        **base_config(database_url, str(tmp_path)),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_DEFAULT": "2 per minute",
        "RATELIMIT_APPLICATION": "30 per minute",
    }
    client = create_app(config).test_client()
    caplog.set_level(logging.INFO, logger="directory.requests")
    assert [client.get("/healthz").status_code for _ in range(4)] == [200] * 4
    assert [client.get("/readyz").status_code for _ in range(4)] == [200] * 4
    assert [r for r in caplog.records if r.name == "directory.requests"] == []
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]  # the limit is on


def test_an_app_made_later_does_not_keep_an_earlier_app_s_default_limits(database_url, tmp_path):
    """The limiter is one per process: each app applies its own RATELIMIT_DEFAULT, not the first one's."""
    strict = {
        **base_config(database_url, str(tmp_path)),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_DEFAULT": "1 per minute",
    }
    create_app(strict)
    lenient = create_app({**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True}).test_client()
    assert [lenient.get("/").status_code for _ in range(3)] == [200] * 3


# --- request ids and logs ----------------------------------------------------------------------


def test_request_log_names_query_parameters_but_never_their_values(client, caplog):
    """A search for a condition near a postal code is logged without the condition or the code."""
    caplog.set_level(logging.INFO, logger="directory.requests")
    response = client.get("/search?near=10001&condition=tmj&page=1", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    (record,) = [r for r in caplog.records if r.name == "directory.requests"]
    assert (record.request_id, record.method, record.path, record.status) == (
        "abc-123",
        "GET",
        "/search?near&condition&page",
        200,
    )
    assert record.user_id is None and record.duration_ms > 0
    line = JsonFormatter().format(record)
    assert "\n" not in line and "10001" not in line and "tmj" not in line
    assert json.loads(line)["path"] == "/search?near&condition&page"


def test_request_log_carries_the_signed_in_user_and_a_fresh_id_for_a_bad_one(client, practitioner_user, caplog):
    """A signed-in request is logged with the user's id; an unusable X-Request-ID is replaced."""
    login(client, practitioner_user)
    caplog.set_level(logging.INFO, logger="directory.requests")
    response = client.get("/dashboard/", headers={"X-Request-ID": "bad id\twith spaces"})
    (record,) = [r for r in caplog.records if r.name == "directory.requests"]
    assert record.user_id == practitioner_user.id
    assert record.request_id == response.headers["X-Request-ID"] != "bad id\twith spaces"
    assert re.fullmatch(r"[0-9a-f]{16}", record.request_id)


def test_refused_requests_are_logged_and_timed_too(client, caplog):
    """A request turned away before any view (a NUL in the query) still gets its log line."""
    caplog.set_level(logging.INFO, logger="directory.requests")
    response = client.get("/search?near=%00")
    assert response.status_code == 400
    (record,) = [r for r in caplog.records if r.name == "directory.requests"]
    assert record.status == 400 and record.path == "/search?near" and record.duration_ms >= 0


def test_loggable_path_keeps_each_name_once():
    """Repeated parameters are named once, in order; no query, no question mark."""
    assert loggable_path("/search", ["near", "language", "near"]) == "/search?near&language"
    assert loggable_path("/", []) == "/"


def test_json_lines_in_production_and_text_in_development(monkeypatch):
    """LOG_FORMAT follows FLASK_ENV unless set; a word it does not know stops the start."""
    from directory.config import from_environment

    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("FLASK_ENV", "production")
    assert from_environment("/tmp")["LOG_FORMAT"] == "json"
    monkeypatch.setenv("FLASK_ENV", "development")
    assert from_environment("/tmp")["LOG_FORMAT"] == "text"
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert from_environment("/tmp")["LOG_FORMAT"] == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(RuntimeError, match="LOG_FORMAT must be one of json, text, not 'xml'"):
        from_environment("/tmp")


def test_json_formatter_writes_errors_with_their_traceback_on_one_line():
    """An exception's traceback stays inside the one JSON object."""
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed %s", ("job",), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    parsed = json.loads(line)
    assert "\n" not in line
    assert (parsed["level"], parsed["message"]) == ("ERROR", "failed job")
    assert "ValueError: boom" in parsed["exception"]


# --- metrics -----------------------------------------------------------------------------------


def test_metrics_count_requests_per_endpoint_for_loopback_only(client):
    """Prometheus text from 127.0.0.1; any other address gets a 404 as if nothing were there."""
    client.get("/")
    client.get("/")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert re.search(
        r'cst_http_request_duration_seconds_count\{endpoint="public.home",method="GET",status="200"\} 2\.0', text
    )
    assert 'endpoint="ops.metrics"' not in text and "healthz" not in text
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    # Without trusted proxies an X-Forwarded-For header is anybody's, and ignored.
    spoofed = client.get(
        "/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}, headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert spoofed.status_code == 404


def test_metrics_allow_takes_networks_and_refuses_nonsense(database_url, tmp_path):
    """METRICS_ALLOW lists addresses or networks; a word that is neither stops the start."""
    config = {**base_config(database_url, str(tmp_path)), "METRICS_ALLOW": "10.0.0.0/8, 192.0.2.7"}
    client = create_app(config).test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics").status_code == 404  # loopback is not in this list
    with pytest.raises(RuntimeError, match="METRICS_ALLOW must list IP addresses or networks"):
        create_app({**config, "METRICS_ALLOW": "127.0.0.1, localhost"})


def test_metrics_show_the_outbox_queue_and_its_oldest_due_message(app, client):
    """Two messages waiting (the oldest due for an hour), one sent, one given up, one not yet due."""
    from directory.mail import MAX_ATTEMPTS
    from directory.models import OutboxMessage

    now = utcnow()

    def message(**fields):
        db.session.add(OutboxMessage(recipient="a@example.org", subject="s", text_body="b", **fields))

    message(created_at=now - timedelta(hours=1), next_attempt_at=now - timedelta(hours=1))
    message(created_at=now - timedelta(minutes=5), next_attempt_at=now + timedelta(minutes=10))  # retry later
    message(created_at=now - timedelta(days=2), next_attempt_at=now - timedelta(days=2), sent_at=now)
    message(created_at=now - timedelta(days=3), next_attempt_at=now, attempts=MAX_ATTEMPTS)
    db.session.commit()
    text = client.get("/metrics").get_data(as_text=True)
    assert re.search(r"^cst_outbox_queue_depth 2\.0$", text, re.M)
    assert re.search(r"^cst_outbox_given_up 1\.0$", text, re.M)
    age = float(re.search(r"^cst_outbox_oldest_due_age_seconds (\S+)$", text, re.M).group(1))
    assert 3600 <= age < 3700


# --- the nginx site ----------------------------------------------------------------------------


def _render_nginx_site(folder: Path, app_port: int, http_port: int, https_port: int) -> Path:
    """deploy/nginx/cst.conf as it would be installed, moved to this machine's paths and free ports."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=cst.example.org",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    site_packages = next(Path(sys.prefix).glob("lib/python3*/site-packages"))
    site = (ROOT / "deploy" / "nginx" / "cst.conf").read_text()
    for old, new in [
        ("/srv/cst/app/.venv/lib/python3.11/site-packages", str(site_packages)),
        ("/srv/cst/app", str(ROOT)),
        ("/etc/letsencrypt/live/cst.example.org/fullchain.pem", str(folder / "cert.pem")),
        ("/etc/letsencrypt/live/cst.example.org/privkey.pem", str(folder / "key.pem")),
        ("/etc/nginx/snippets/cst-proxy.conf", str(ROOT / "deploy" / "nginx" / "cst-proxy.conf")),
        ("/var/log/nginx", str(folder)),
        ("127.0.0.1:8000", f"127.0.0.1:{app_port}"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
    ]:
        assert old in site, f"{old} is no longer in deploy/nginx/cst.conf"
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (folder / "cst.conf").write_text(site)
    conf = folder / "nginx.conf"
    conf.write_text(
        f"user root;\nworker_processes 1;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n  include /etc/nginx/mime.types;\n"
        + "".join(
            f"  {kind}_temp_path {folder}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {folder}/cst.conf;\n}}\n"
    )
    return conf


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx)")
def test_nginx_site_serves_static_files_and_passes_the_rest_to_the_app(database_url, tmp_path):
    """The documented site, on a self-signed certificate: static from disk, HSTS once, limits, /metrics closed."""
    from werkzeug.serving import make_server

    config = {**base_config(database_url, str(tmp_path)), "TRUSTED_PROXIES": 1, "PREFERRED_URL_SCHEME": "https"}
    app = create_app(config)
    seen = []
    app.before_request(lambda: seen.append((request.remote_addr, request.scheme, request.host)) and None)
    app_server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=app_server.serve_forever, daemon=True).start()
    http_port, https_port = _free_port(), _free_port()
    conf = _render_nginx_site(tmp_path, app_server.server_port, http_port, https_port)
    check = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf), "-g", "daemon off;"])
    try:
        tls = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        tls.check_hostname = False

        def fetch(path: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
            for _ in range(100):
                connection = http.client.HTTPSConnection("127.0.0.1", https_port, context=tls, timeout=30)
                try:
                    connection.request(method, path, body=body, headers={"Host": "cst.example.org", **(headers or {})})
                    response = connection.getresponse()
                    return response, response.read()
                except ConnectionRefusedError:
                    time.sleep(0.1)  # nginx is still starting
                finally:
                    connection.close()
            raise AssertionError("nginx did not answer")

        response, body = fetch("/static/css/app.css")
        assert response.status == 200 and body == (ROOT / "directory/static/css/app.css").read_bytes()
        assert response.getheader("Server").startswith("nginx") and "max-age=86400" in response.getheader(
            "Cache-Control"
        )
        assert response.headers.get_all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
        for path in (
            "/bootstrap/static/css/bootstrap.min.css",
            "/vendor/leaflet/leaflet.js",
            "/vendor/leaflet-markercluster/MarkerCluster.css",
        ):
            response, _ = fetch(path)
            assert response.status == 200 and "max-age=2592000" in response.getheader("Cache-Control"), path
        assert seen == []  # not one of them reached the app

        # A client's own X-Forwarded-For is kept but not believed: the app sees the address nginx saw.
        response, body = fetch("/?q=1", headers={"X-Forwarded-For": "198.51.100.66"})
        assert response.status == 200 and b"<html" in body
        assert response.headers.get_all("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
        assert re.fullmatch(r"[0-9a-f]{32}", response.getheader("X-Request-ID"))  # nginx's $request_id
        assert seen == [("127.0.0.1", "https", f"cst.example.org:{https_port}")]  # ProxyFix, TRUSTED_PROXIES=1
        assert fetch("/metrics")[0].status == 404
        assert fetch("/healthz")[0].status == 200
        assert fetch("/search", "POST", b"x" * (6 * 1024 * 1024 + 1))[0].status == 413
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
        plain.request("GET", "/search?near=10001", headers={"Host": "cst.example.org"})
        redirect = plain.getresponse()
        assert (redirect.status, redirect.getheader("Location")) == (301, "https://cst.example.org/search?near=10001")
        plain.close()
        log = (tmp_path / "cst.access.log").read_text()
        assert "GET / HTTP" in log and "q=1" not in log and "healthz" not in log
    finally:
        nginx.terminate()
        nginx.wait(timeout=30)
        app_server.shutdown()
        app_server.server_close()


# --- the systemd units -------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_are_valid_and_name_commands_that_exist(tmp_path):
    """deploy/systemd, with /srv/cst/app pointing at this checkout: no unknown key, every command there."""
    units = sorted((ROOT / "deploy" / "systemd").iterdir())
    assert {unit.name for unit in units} >= {
        "cst-web.service",
        "cst-sender.service",
        "cst-daily.service",
        "cst-daily.timer",
    }
    for unit in units:
        (tmp_path / unit.name).write_text(unit.read_text().replace("/srv/cst/app", str(ROOT)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *[str(tmp_path / unit.name) for unit in units]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    web = (tmp_path / "cst-web.service").read_text()
    assert f"ExecStart={ROOT}/.venv/bin/gunicorn --config gunicorn.conf.py wsgi:app" in web
    assert "send-mail --loop" in (tmp_path / "cst-sender.service").read_text()
    assert "notify-expiring" in (tmp_path / "cst-daily.service").read_text()
