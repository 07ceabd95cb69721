"""Mail that is never lost: the outbox, delivered over real SMTP (aiosmtpd on loopback)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import UTC, timedelta

import pytest

from directory.extensions import db
from directory.mail import MAX_ATTEMPTS, _claim, backoff, deliver_due, queue_mail, site_url
from directory.models import OutboxMessage
from directory.models.base import utcnow


def _queue(n: int = 1, recipient: str = "pat@example.org") -> list[int]:
    """Queue n enquiry notices and commit, as a request would."""
    ids = []
    for _ in range(n):
        message = queue_mail(
            recipient,
            "New enquiry",
            "enquiry_received",
            name="Pat",
            has_account=True,
            dashboard_url="http://localhost/dashboard/",
        )
        db.session.commit()
        ids.append(message.id)
    return ids


def _aware(moment):
    """SQLite gives naive UTC datetimes back; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _make_all_due() -> None:
    db.session.execute(db.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_queued_message_waits_in_the_outbox_until_the_sender_runs(mail_app, smtp_server):
    _queue()
    assert smtp_server.messages == []
    assert db.session.execute(db.select(OutboxMessage)).scalar_one().sent_at is None


def test_message_is_delivered_over_smtp_as_plain_text_with_html_alternative(mail_app, smtp_server):
    _queue(recipient="pat@example.org")
    assert deliver_due() == (1, 0)
    [email] = smtp_server.messages
    assert email.envelope_rcpt == ["pat@example.org"]
    assert email["To"] == "pat@example.org" and email["Subject"] == "New enquiry"
    assert email["Date"] and email["Message-ID"]
    assert email.get_content_type() == "multipart/alternative"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "http://localhost/dashboard/" in text
    assert '<a href="http://localhost/dashboard/">' in html
    message = db.session.execute(db.select(OutboxMessage)).scalar_one()
    assert message.sent_at is not None and message.attempts == 1


def test_outbox_survives_an_smtp_outage_and_delivers_each_message_exactly_once(mail_app, smtp_server):
    _queue(2)
    assert deliver_due() == (2, 0)
    assert len(smtp_server.messages) == 2

    smtp_server.stop()
    waiting = _queue(3)
    before = utcnow()
    assert deliver_due() == (0, 3)
    rows = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.id.in_(waiting))).scalars().all()
    for row in rows:
        assert row.sent_at is None and row.attempts == 1 and row.last_error
        assert _aware(row.next_attempt_at) >= before + backoff(1) - timedelta(seconds=1)

    # Not due yet: nothing is tried again before the back-off has passed.
    assert deliver_due() == (0, 0)
    # Still down at the next due time: the attempts add up and the wait doubles.
    _make_all_due()
    assert deliver_due() == (0, 3)
    row = db.session.get(OutboxMessage, waiting[0])
    assert row.attempts == 2 and _aware(row.next_attempt_at) >= utcnow() + backoff(2) - timedelta(seconds=2)

    smtp_server.start()
    _make_all_due()
    assert deliver_due() == (3, 0)
    assert deliver_due() == (0, 0)
    _make_all_due()
    assert deliver_due() == (0, 0)
    assert len(smtp_server.messages) == 5
    subjects = [m["Message-ID"] for m in smtp_server.messages]
    assert len(set(subjects)) == 5
    unsent = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).scalars().all()
    assert unsent == []


def test_a_mailbox_refused_for_good_is_not_retried(mail_app, smtp_server):
    smtp_server.refuse.add("gone@example.org")
    _queue(recipient="gone@example.org")
    _queue(recipient="pat@example.org")
    assert deliver_due() == (1, 1)
    refused = db.session.execute(db.select(OutboxMessage).filter_by(recipient="gone@example.org")).scalar_one()
    assert refused.attempts >= MAX_ATTEMPTS and "550" in refused.last_error
    _make_all_due()
    assert deliver_due() == (0, 0)
    assert [m["To"] for m in smtp_server.messages] == ["pat@example.org"]


def test_a_message_claimed_by_one_sender_is_not_sent_by_another(mail_app, smtp_server):
    [message_id] = _queue()
    assert _claim(message_id) is True
    assert _claim(message_id) is False
    assert deliver_due() == (0, 0)
    assert smtp_server.messages == []


def test_without_a_mail_server_messages_are_written_to_the_log(app, caplog):
    _queue(recipient="dev@example.org")
    with caplog.at_level(logging.INFO, logger="directory.mail"):
        assert deliver_due() == (1, 0)
    assert "dev@example.org" in caplog.text and "http://localhost/dashboard/" in caplog.text
    assert db.session.execute(db.select(OutboxMessage)).scalar_one().sent_at is not None


def test_send_mail_command_delivers_what_is_due(mail_app, smtp_server, runner):
    _queue(2)
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "sent 2, failed 0" in result.output
    assert len(smtp_server.messages) == 2


def test_background_sender_of_make_run_delivers_new_messages(app, smtp_server, database_url):
    """`make run` starts `flask send-mail --loop` next to the server: it picks up new mail."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MAIL_SERVER": smtp_server.host,
        "MAIL_PORT": str(smtp_server.port),
        "FLASK_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }
    sender = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "flask", "--app", "wsgi", "send-mail", "--loop", "--interval", "0.2"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _queue(2)
        deadline = time.monotonic() + 30
        while len(smtp_server.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(smtp_server.messages) == 2
        # The sender marks each message sent right after the server took it; wait for that
        # commit rather than for its printed summary, which terminate() may cut off.
        while time.monotonic() < deadline:
            db.session.rollback()
            if all(m.sent_at is not None for m in db.session.execute(db.select(OutboxMessage)).scalars()):
                break
            time.sleep(0.1)
        time.sleep(1)  # a few more rounds: nothing is sent twice
    finally:
        sender.terminate()
        output = sender.communicate(timeout=10)[0].decode()
    messages = db.session.execute(db.select(OutboxMessage)).scalars().all()
    assert [m.attempts for m in messages] == [1, 1] and all(m.sent_at for m in messages), output
    assert len(smtp_server.messages) == 2, output
    assert "Traceback" not in output, output


# --- Absolute links: site_url, the one builder -----------------------------------------------


@pytest.mark.parametrize(
    "site, expected",
    [
        ("https://cst.example.org", "https://cst.example.org/account/login"),
        ("https://cst.example.org/", "https://cst.example.org/account/login"),
        ("https://example.org/directory", "https://example.org/directory/account/login"),
        ("https://example.org/directory/", "https://example.org/directory/account/login"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/account/login"),
    ],
)
def test_links_in_emails_start_with_the_site_url_and_its_path_prefix(app, site, expected):
    app.config["SERVER_NAME_FOR_EMAIL"] = site
    with app.app_context():  # as in `flask send-mail` or `notify-expiring`: no request at all
        assert site_url("accounts.login") == expected


def test_a_link_keeps_its_values_and_fragment_without_double_slashes(app):
    app.config["SERVER_NAME_FOR_EMAIL"] = "https://example.org/directory/"
    with app.app_context():
        link = site_url("accounts.reset_password", token="abc.DEF-123_x", _anchor="form")
        assert link == "https://example.org/directory/account/reset/abc.DEF-123_x#form"
        assert site_url("public.home", q="back pain") == "https://example.org/directory/?q=back+pain"
        assert "//" not in link.partition("://")[2]


def test_a_forged_host_or_a_mounted_path_never_changes_a_link(app):
    app.config["SERVER_NAME_FOR_EMAIL"] = "https://cst.example.org/cst"
    with app.test_request_context("/", base_url="http://evil.example/cst", headers={"Host": "evil.example"}):
        assert site_url("accounts.login") == "https://cst.example.org/cst/account/login"
