"""Scale past one machine: two gunicorn instances (as `make serve` starts them, through gunicorn.conf.py)
on two loopback ports, sharing one PostgreSQL database and one Redis, behave as one site.

- a session started on one instance is valid on the other;
- the enquiry rate limit and the sign-in lockout count across both (Flask-Limiter in Redis);
- two `flask send-mail` senders running at once deliver each outbox message and webhook exactly once;
- a referral moved at the same moment through both instances: one wins, the other answers 409.

PostgreSQL only (SQLite is one file on one machine): skipped unless DATABASE_URL names PostgreSQL,
as the second CI run of the suite does. The database is a dedicated one, created, migrated and
dropped here; Redis is database REDIS_DB of the local server, flushed before and after.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from directory import create_app
from directory.extensions import db
from directory.models import OutboxMessage, Referral, Role
from directory.referrals import workflow
from tests.conftest import base_config, csrf_token_from, drop_database, new_database
from tests.factories import PractitionerFactory, UserFactory
from tests.referral_helpers import make_referral, token_for

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRESQL = DATABASE_URL.startswith(("postgresql", "postgres:"))
pytestmark = [
    pytest.mark.skipif(
        not ON_POSTGRESQL,
        reason="two instances need a shared PostgreSQL database: run with DATABASE_URL=postgresql+psycopg://...",
    ),
    # One pair of servers per test run, in one xdist worker.
    pytest.mark.xdist_group("multi_instance"),
]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_DB = 14
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
PASSWORD = "correct horse battery staple"
PATIENT = {
    "name": "Paula Patient",
    "email": "paula.patient@example.com",
    "phone": "+1 303 555 0199",
    "message": "My jaw clicks when I chew. Could you help?",
    "consent": "y",
    "website": "",
}
START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Instance:
    """One gunicorn master (and its workers) on a loopback port."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass
class Site:
    """Two instances of one site, and what they share."""

    a: Instance
    b: Instance
    database_url: str
    env: dict
    folder: Path


def server_environment(database_url: str, folder: Path) -> dict:
    """What both instances (and the senders) are started with: one database, one Redis, one secret."""
    env = {key: value for key, value in os.environ.items() if key not in {"PROMETHEUS_MULTIPROC_DIR", "FLASK_DEBUG"}}
    env.update(
        FLASK_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        CACHE_REDIS_URL=REDIS_URL,
        ENQUIRY_RATE_LIMIT="2 per minute",
        ENQUIRY_MIN_SECONDS="0",
        WEB_CONCURRENCY="2",
        WEB_THREADS="4",
        LOG_FORMAT="text",
        UPLOAD_FOLDER=str(folder / "uploads"),
        MAIL_SERVER="",
        SITE_URL="http://127.0.0.1:5000",
    )
    return env


def start_instance(name: str, env: dict, folder: Path) -> Instance:
    """`make serve`'s command (after its `db upgrade`) on a free loopback port."""
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Instance(name, port, process, log)


def wait_ready(instance: Instance) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            pytest.fail(f"instance {instance.name} exited ({instance.process.returncode}):\n{instance.log_tail()}")
        try:
            if requests.get(instance.url + "/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still loading
            pass
        time.sleep(0.3)
    pytest.fail(f"instance {instance.name} not ready after {START_SECONDS} s:\n{instance.log_tail()}")


def stop_instance(instance: Instance) -> None:
    if instance.process.poll() is None:
        instance.process.terminate()
        try:
            instance.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait()


@pytest.fixture(scope="module")
def site():
    """Two instances on one migrated PostgreSQL database and one Redis database; an app context on it."""
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is needed at {REDIS_URL} for the multi-instance tests (CI runs it)")
    connection.flushdb()
    database_url = new_database("multi")  # a database of this module's own
    folder = Path(tempfile.mkdtemp(prefix="cst-multi-"))
    # The test's own writes renew the kept search pages' generation in the instances' Redis too.
    app = create_app({**base_config(database_url, str(folder)), "CACHE_REDIS_URL": REDIS_URL})
    context = app.app_context()
    context.push()
    instances = []
    try:
        from flask_migrate import upgrade

        upgrade()  # what `make serve` runs first (flask db upgrade)
        env = server_environment(database_url, folder)
        instances = [start_instance("A", env, folder), start_instance("B", env, folder)]
        for instance in instances:
            wait_ready(instance)
        yield Site(instances[0], instances[1], database_url, env, folder)
    finally:
        for instance in instances:
            stop_instance(instance)
        db.session.remove()
        db.engine.dispose()
        context.pop()
        drop_database(database_url)
        connection.flushdb()
        connection.close()


def form_post(browser: requests.Session, instance: Instance, page: str, data: dict, post: str | None = None):
    """Open a form page on an instance and post it with its CSRF token, as a browser does."""
    html = browser.get(instance.url + page, timeout=30).text
    return browser.post(
        instance.url + (post or page),
        data={"csrf_token": csrf_token_from(html), **data},
        allow_redirects=False,
        timeout=30,
    )


def account(email: str, role: Role = Role.PRACTITIONER):
    from directory.accounts.passwords import hash_password

    return UserFactory(email=email, role=role, password_hash=hash_password(PASSWORD))


def test_a_session_started_on_one_instance_is_valid_on_the_other(site):
    account("roaming@example.org")
    browser = requests.Session()  # cookies are per host, not per port: like a load balancer's one address
    signed_in = form_post(browser, site.a, "/account/login", {"email": "roaming@example.org", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.text[:500]
    on_b = browser.get(site.b.url + "/account/", allow_redirects=False, timeout=30)
    assert on_b.status_code == 200 and "roaming@example.org" in on_b.text
    # Without the cookie B sends the visitor to sign in: the session, not luck, made the difference.
    stranger = requests.get(site.b.url + "/account/", allow_redirects=False, timeout=30)
    assert stranger.status_code == 302 and "/account/login" in stranger.headers["Location"]
    # Signing out on B ends the session on A too.
    html = browser.get(site.b.url + "/account/", timeout=30).text
    browser.post(site.b.url + "/account/logout", data={"csrf_token": csrf_token_from(html)}, timeout=30)
    assert browser.get(site.a.url + "/account/", allow_redirects=False, timeout=30).status_code == 302


def test_the_sign_in_lockout_counts_across_both_instances(site):
    account("locked@example.org")
    # The per-account limit is 10 failures per 15 minutes: 5 on each instance reach it only together.
    for n in range(10):
        instance = site.a if n % 2 == 0 else site.b
        failed = form_post(
            requests.Session(), instance, "/account/login", {"email": "locked@example.org", "password": "wrong guess!!"}
        )
        assert failed.status_code == 400, f"attempt {n} on {instance.name}: {failed.status_code}"
    for instance in (site.a, site.b):
        locked = form_post(
            requests.Session(), instance, "/account/login", {"email": "locked@example.org", "password": PASSWORD}
        )
        assert locked.status_code == 429 and "Too many attempts" in locked.text
        assert int(locked.headers["Retry-After"]) >= 1


def enquiry(browser: requests.Session, instance: Instance, practitioner_id: int):
    page = browser.get(f"{instance.url}/practitioners/{practitioner_id}", timeout=30).text
    if 'id="enquiry-sent"' in page:  # the thank-you for the last message shows once, then the form again
        page = browser.get(f"{instance.url}/practitioners/{practitioner_id}", timeout=30).text
    started = re.search(r'id="enquiry-started" name="started" type="hidden" value="([^"]+)"', page).group(1)
    return browser.post(
        f"{instance.url}/practitioners/{practitioner_id}/enquiry",
        data={"csrf_token": csrf_token_from(page), "started": started, **PATIENT},
        allow_redirects=False,
        timeout=30,
    )


def test_the_enquiry_rate_limit_counts_across_both_instances(site):
    practitioner = PractitionerFactory(email="busy@example.org")
    browser = requests.Session()
    # ENQUIRY_RATE_LIMIT is 2 per minute per address: one on each instance, then the third is refused.
    assert enquiry(browser, site.a, practitioner.id).status_code == 302
    assert enquiry(browser, site.b, practitioner.id).status_code == 302
    refused = enquiry(browser, site.a, practitioner.id)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 61
    assert "was not sent" in refused.text
    assert enquiry(browser, site.b, practitioner.id).status_code == 429


def run_senders(site: Site, smtp_port: int, count: int = 2) -> list[subprocess.CompletedProcess]:
    """`flask send-mail` started `count` times at once against the shared database.

    The senders run outside production settings, so that they may post webhooks to loopback.
    """
    env = {**site.env, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_port), "FLASK_ENV": "development"}
    processes = [
        subprocess.Popen(  # noqa: S603
            [str(BIN / "flask"), "--app", "wsgi", "send-mail"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


class WebhookReceiver:
    """A clinic system on loopback: notes the webhook-id of every POST it is sent, answers 204."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's hook name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    received.append(self.headers.get("webhook-id"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cst"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


def test_two_senders_deliver_each_outbox_message_and_webhook_exactly_once(site, smtp_server, webhook_receiver):
    import base64

    from directory.models import WebhookDelivery, WebhookEndpoint

    subjects = [f"Multi-instance message {n}" for n in range(60)]
    # Only these messages are due (other tests' notifications are marked sent).
    db.session.execute(db.update(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).values(sent_at=db.func.now()))
    for subject in subjects:
        db.session.add(
            OutboxMessage(
                recipient="inbox@example.org", subject=subject, text_body=subject, html_body=f"<p>{subject}</p>"
            )
        )
    endpoint = WebhookEndpoint(
        user=account("clinic.system@example.org", Role.PROVIDER),
        url=webhook_receiver.url,
        events="referral.updated",
        secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    )
    webhook_ids = [f"msg_multi_{n}" for n in range(40)]
    for message_id in webhook_ids:
        db.session.add(
            WebhookDelivery(endpoint=endpoint, message_id=message_id, event_type="referral.updated", payload="{}")
        )
    db.session.commit()

    results = run_senders(site, smtp_server.port)
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
    sent = [int(re.search(r"sent (\d+), failed (\d+)", r.stdout).group(1)) for r in results]
    assert sum(sent) == len(subjects) + len(webhook_ids), sent
    received = Counter(str(message["Subject"]) for message in smtp_server.messages)
    assert received == Counter(subjects), "a message was lost or delivered twice"
    assert Counter(webhook_receiver.received) == Counter(webhook_ids), "a webhook was lost or posted twice"
    db.session.expire_all()
    rows = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.subject.in_(subjects))).scalars().all()
    assert len(rows) == len(subjects) and all(row.sent_at is not None and row.attempts == 1 for row in rows)
    deliveries = db.session.execute(db.select(WebhookDelivery)).scalars().all()
    assert all(row.delivered_at is not None and row.attempts == 1 for row in deliveries)


def test_a_referral_moved_at_once_through_both_instances_one_wins_the_other_409(site):
    provider = account("dr.shared@example.org", Role.PROVIDER)
    from directory.models.accounts import ProviderStatus

    provider.provider_status = ProviderStatus.VERIFIED
    practitioner_user = account("pat.shared@example.org")
    PractitionerFactory(user=practitioner_user, email=practitioner_user.email, conditions=["tmj"])
    db.session.commit()
    headers = token_for(practitioner_user)
    for _ in range(5):  # several races, so that both orders of arrival are likely
        referral = make_referral(provider, practitioner_user, workflow.RECEIVED)
        version = referral.version
        barrier = threading.Barrier(2)
        answers: dict[str, requests.Response] = {}

        def move(instance: Instance, referral_id=referral.id, version=version, barrier=barrier, answers=answers):
            barrier.wait()
            answers[instance.name] = requests.post(
                f"{instance.url}/api/v1/referrals/{referral_id}/transitions",
                json={"status": workflow.ACCEPTED, "version": version},
                headers=headers,
                timeout=30,
            )

        threads = [threading.Thread(target=move, args=(instance,)) for instance in (site.a, site.b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(response.status_code for response in answers.values())
        assert statuses == [200, 409], {name: (r.status_code, r.text[:300]) for name, r in answers.items()}
        loser = next(r for r in answers.values() if r.status_code == 409)
        assert "error" in loser.json()
        db.session.expire_all()
        stored = db.session.get(Referral, referral.id)
        assert stored.status == workflow.ACCEPTED and stored.version == version + 1


def test_a_search_page_kept_by_both_instances_shows_a_change_at_once_on_both(site):
    """Kept search pages live in the shared Redis: a change written anywhere shows on every instance."""
    practitioner = PractitionerFactory(display_name="Kept Everywhere")
    db.session.commit()
    for instance in (site.a, site.b, site.a, site.b):
        page = requests.get(instance.url + "/search?near=80302", timeout=30)
        assert page.status_code == 200 and "Kept Everywhere" in page.text, instance.log_tail()
    practitioner.display_name = "Renamed Everywhere"
    db.session.commit()
    for instance in (site.b, site.a):
        page = requests.get(instance.url + "/search?near=80302", timeout=30)
        assert "Renamed Everywhere" in page.text and "Kept Everywhere" not in page.text
