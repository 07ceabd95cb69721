"""Mail through an outbox: requests record messages; a sender delivers them over SMTP.

`queue_mail()` only adds a row in the caller's transaction, so a message exists exactly
when the change that caused it was committed. `deliver_due()` sends what is due, with
retries and exponential back-off, and is run by `flask send-mail` (cron or loop) and by
`make run` in the background. Each message is claimed with a short lease before it is
sent, so two senders running at once never send the same message twice (the lease and the
back-off are `directory.outbox`'s, shared with the webhook sender). With no
MAIL_SERVER configured (development), messages are written to the log instead.
Messages never carry patient details: they say that something changed and link to the site.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import quote, urlsplit

from flask import current_app, render_template
from sqlalchemy import select

from directory.extensions import db
from directory.models import OutboxMessage
from directory.models.base import utcnow
from directory.outbox import MAX_ATTEMPTS, backoff, claim

log = logging.getLogger(__name__)

# Characters left as they are in a link's #fragment (as Flask's url_for does).
ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def queue_mail(recipient: str, subject: str, template: str, **context) -> OutboxMessage:
    """Record a message from `mail/<template>.txt` (and `.html`); delivered later by the sender."""
    text = render_template(f"mail/{template}.txt", **context)
    html = render_template(f"mail/{template}.html", text=text, **context)
    message = OutboxMessage(recipient=recipient, subject=subject[:200], text_body=text, html_body=html)
    db.session.add(message)
    return message


def site_url(endpoint: str, **values) -> str:
    """The one builder of absolute links (emails, API `url` fields): SITE_URL plus the route's path.

    It reads nothing of the request (a forged Host header or the script root of the request
    cannot change a link) and works outside one (CLI commands). SITE_URL may carry a path
    prefix (`https://example.org/cst`); other values become the query string; `_anchor` the
    fragment.
    """
    base = urlsplit(current_app.config.get("SERVER_NAME_FOR_EMAIL") or "http://127.0.0.1:5000")
    anchor = values.pop("_anchor", None)
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path.rstrip("/") or "/", url_scheme=base.scheme or "http"
    )
    link = adapter.build(endpoint, values, force_external=True)
    return f"{link}#{quote(anchor, safe=ANCHOR_SAFE)}" if anchor else link


def _build(message: OutboxMessage) -> EmailMessage:
    """The email of an outbox message: plain text, with the HTML version as an alternative."""
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=f"outbox{message.id}")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    return email


def _connect() -> smtplib.SMTP:
    """A signed-in connection to the configured SMTP server (SSL, STARTTLS or plain)."""
    config = current_app.config
    timeout = config["MAIL_TIMEOUT"]
    if config["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return smtp


def deliver_due(limit: int = 100) -> tuple[int, int]:
    """Send the messages that are due; returns (sent, failed). Safe to run concurrently."""
    due = _due_ids(limit)
    if not due:
        return 0, 0
    smtp = None
    if current_app.config["MAIL_SERVER"]:
        try:
            smtp = _connect()
        except (OSError, smtplib.SMTPException) as error:
            _fail_all(due, error)
            return 0, len(due)
    sent = failed = 0
    try:
        for message_id in due:
            delivered = _deliver_one(smtp, message_id)
            if delivered is True:
                sent += 1
            elif delivered is False:
                failed += 1
    finally:
        _quit(smtp)
    return sent, failed


def _due_ids(limit: int) -> list[int]:
    """The ids of up to `limit` unsent messages whose next attempt is due, oldest first."""
    now = utcnow()
    stmt = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars().all())


def _fail_all(due: list[int], error: Exception) -> None:
    """The SMTP server could not be reached: every due message counts one failed attempt."""
    for message_id in due:
        message = db.session.get(OutboxMessage, message_id)
        if message is not None and message.sent_at is None:
            _failed(message, error)
    db.session.commit()
    log.warning("SMTP server unreachable (%s); %d messages wait", error, len(due))


def _deliver_one(smtp: smtplib.SMTP | None, message_id: int) -> bool | None:
    """Claim and send one message: True when sent, False when it failed, None when not ours.

    Without an SMTP connection (no MAIL_SERVER) the message goes to the log.
    """
    if not _claim(message_id):
        return None  # another sender took it, or it was sent meanwhile
    message = db.session.get(OutboxMessage, message_id)
    try:
        if smtp is None:
            log.info("Mail (no MAIL_SERVER set) to %s: %s\n%s", message.recipient, message.subject, message.text_body)
        else:
            smtp.send_message(_build(message))
    except (OSError, smtplib.SMTPException) as error:
        _failed(message, error)
        delivered = False
    else:
        message.sent_at = utcnow()
        message.attempts += 1
        message.last_error = ""
        delivered = True
    # Commit each message as it goes, so a crash never sends one twice.
    db.session.commit()
    return delivered


def _quit(smtp: smtplib.SMTP | None) -> None:
    """Close the SMTP connection, ignoring a server that has already gone."""
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass


def _claim(message_id: int) -> bool:
    """Take a due message for sending (a lease), atomically; False when it is not ours to send."""
    return claim(OutboxMessage, message_id, OutboxMessage.sent_at.is_(None))


def _smtp_code(error: Exception) -> int | None:
    """The SMTP reply code of an error, if the server gave one."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        return min(code for code, _ in error.recipients.values())
    return getattr(error, "smtp_code", None)


def _failed(message: OutboxMessage, error: Exception) -> None:
    """Count a failed attempt and schedule the next one; a permanent (5xx) refusal gives up."""
    message.attempts += 1
    message.last_error = str(error)[:1000]
    code = _smtp_code(error)
    if code is not None and 500 <= code < 600:
        # The server refused for good (unknown mailbox, ...): retrying cannot help.
        message.attempts = max(message.attempts, MAX_ATTEMPTS)
        log.warning("Mail %s to %s refused for good: %s", message.id, message.recipient, error)
    message.next_attempt_at = utcnow() + backoff(message.attempts)
