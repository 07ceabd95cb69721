"""A credential loses its badge the day after it expires; owners are warned 30 days before and on the day."""

from __future__ import annotations

from datetime import date, timedelta

from directory.extensions import db
from directory.models import VerificationStatus
from directory.models.base import today, utcnow
from tests.admin_support import fresh
from tests.admin_support import outbox as every_message
from tests.factories import CertificationFactory, PractitionerFactory, UserFactory

CONFIRMATION_REMINDER = "Are your details on CST Directory still right?"


def outbox(recipient: str | None = None):
    """The expiry messages (the same daily command also reminds owners to confirm their details,
    which these far-future runs always do: tests/test_feedback.py covers those)."""
    return [m for m in every_message(recipient) if m.subject != CONFIRMATION_REMINDER]


def _verified(expires_on, email="eve@example.org", **kwargs):
    practitioner = PractitionerFactory(
        email=email, display_name=kwargs.pop("name", "Eve Expiry"), latitude=40.02, longitude=-105.27
    )
    return CertificationFactory(
        practitioner=practitioner,
        status=VerificationStatus.VERIFIED,
        verified_at=utcnow(),
        verification_source="register checked",
        expires_on=expires_on,
        **kwargs,
    )


def test_badge_shows_on_the_expiry_day_and_is_gone_the_day_after(client):
    last_day = _verified(today(), email="last@example.org", name="Lana Lastday")
    expired = _verified(today() - timedelta(days=1), email="gone@example.org", name="Gus Gone")
    for p, badge in ((last_day.practitioner, True), (expired.practitioner, False)):
        html = client.get(f"/practitioners/{p.id}").get_data(as_text=True)
        assert ("badge-verified" in html) is badge, p.display_name
    page = client.get("/search?near=80302&radius=25").get_data(as_text=True)
    results = page[page.index('<ol class="list-unstyled results') :]  # the cards, not the map's marker data
    lana = results[results.index("Lana Lastday") :]
    gus = results[results.index("Gus Gone") :]
    assert "badge-verified" in lana[: lana.index("</li>")]
    assert "badge-verified" not in gus[: gus.index("</li>")]
    assert "expired" in gus[: gus.index("</li>")]


def test_expired_credential_is_not_a_verified_practitioner_in_queries(app):
    from directory.models import Certification

    _verified(today() - timedelta(days=1))
    current = db.session.execute(db.select(Certification).where(Certification.is_currently_verified)).scalars().all()
    assert current == []


def _run(runner, day: date) -> str:
    result = runner.invoke(args=["notify-expiring", "--today", day.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_owner_is_warned_30_days_before_expiry_once_however_often_the_job_runs(runner):
    cert = _verified(date(2031, 3, 31))
    assert "0 expiry warnings" in _run(runner, date(2031, 2, 28))  # 31 days before: too early
    assert outbox() == []
    assert "1 expiry warnings" in _run(runner, date(2031, 3, 1))  # 30 days before
    _run(runner, date(2031, 3, 1))
    _run(runner, date(2031, 3, 2))
    [warning] = outbox("eve@example.org")
    assert "expires on 31 March 2031" in warning.subject
    assert "30 days" in warning.text_body and "CST-T" in warning.text_body
    assert fresh(cert).expiry_warning_sent_for == date(2031, 3, 31)


def test_owner_is_told_on_the_expiry_day_once(runner):
    _verified(date(2031, 3, 31))
    for day in (date(2031, 3, 1), date(2031, 3, 31), date(2031, 3, 31), date(2031, 4, 1), date(2031, 4, 5)):
        _run(runner, day)
    warning, notice = outbox("eve@example.org")
    assert "expires today" in notice.subject
    assert "From tomorrow" in notice.text_body


def test_a_missed_day_still_sends_the_notice_but_not_months_later(runner):
    _verified(date(2031, 3, 31), email="late@example.org")
    _verified(date(2030, 1, 1), email="old@example.org")
    _run(runner, date(2031, 4, 2))
    [notice] = outbox("late@example.org")
    assert "expired on 31 March 2031" in notice.subject
    assert outbox("old@example.org") == []


def test_a_renewed_credential_is_warned_again_for_its_new_date(runner):
    cert = _verified(date(2031, 3, 31))
    _run(runner, date(2031, 3, 10))
    cert = fresh(cert)
    cert.expires_on = date(2032, 3, 31)
    db.session.commit()
    _run(runner, date(2031, 3, 31))  # the old date: nothing for the renewed credential
    assert len(outbox()) == 1
    _run(runner, date(2032, 3, 15))
    _run(runner, date(2032, 3, 16))
    assert len(outbox()) == 2


def test_only_verified_credentials_with_an_expiry_date_are_notified(runner):
    PractitionerFactory()
    CertificationFactory(expires_on=date(2031, 3, 31))  # pending
    CertificationFactory(status=VerificationStatus.REJECTED, expires_on=date(2031, 3, 31))
    _verified(None, email="forever@example.org")
    _run(runner, date(2031, 3, 31))
    assert outbox() == []


def test_notice_goes_to_the_account_email_when_the_profile_has_an_account(runner):
    user = UserFactory(email="account@example.org")
    practitioner = PractitionerFactory(user=user, email="profile@example.org")
    CertificationFactory(practitioner=practitioner, status=VerificationStatus.VERIFIED, expires_on=date(2031, 3, 31))
    _run(runner, date(2031, 3, 31))
    assert [m.recipient for m in outbox()] == ["account@example.org"]


def test_notify_expiring_without_a_date_uses_today(runner):
    _verified(today() + timedelta(days=10))
    result = runner.invoke(args=["notify-expiring"])
    assert result.exit_code == 0 and "1 expiry warnings" in result.output
    assert today().isoformat() in result.output


def test_notify_expiring_refuses_a_bad_date(runner):
    result = runner.invoke(args=["notify-expiring", "--today", "31/03/2031"])
    assert result.exit_code != 0 and "Invalid value" in result.output


def test_the_expiry_job_leaves_the_commit_to_its_command(app):
    from directory.admin.verification import notify_expiring

    cert = _verified(date(2031, 3, 31))
    assert notify_expiring(date(2031, 3, 1)) == (1, 0)
    db.session.rollback()  # the command failed before its end: neither the claim nor the message stays
    assert outbox() == []
    assert fresh(cert).expiry_warning_sent_for is None


def test_the_owner_s_dashboard_says_expired_on_the_date(client, practitioner_user):
    from tests.conftest import login

    yesterday = today() - timedelta(days=1)
    CertificationFactory(
        practitioner=practitioner_user.practitioner,
        status=VerificationStatus.VERIFIED,
        verified_at=utcnow(),
        verification_source="register checked",
        expires_on=yesterday,
    )
    login(client, practitioner_user)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert f"Expired on {yesterday.strftime('%-d %b %Y')}" in page
