"""The audit log records every admin action and can be read, filtered and paged, never edited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from directory.audit import record_audit
from directory.extensions import db
from directory.models import AuditLog, Role
from tests.admin_support import admin_client, audit_entries  # noqa: F401
from tests.factories import PractitionerFactory, UserFactory


def _entry(actor, action, object_type="Practitioner", object_id=1, at=None, **kwargs):
    entry = record_audit(actor, action, object_type=object_type, object_id=object_id, **kwargs)
    if at is not None:
        entry.at = at
    db.session.commit()
    return entry


def test_record_audit_names_the_record_and_keeps_values_before_and_after(admin_user):
    practitioner = PractitionerFactory()
    record_audit(
        admin_user, "practitioner.suspended", practitioner, before={"suspended": False}, after={"suspended": True}
    )
    db.session.commit()
    [entry] = audit_entries()
    assert (entry.actor_id, entry.actor_email) == (admin_user.id, "admin@example.org")
    assert (entry.object_type, entry.object_id) == ("Practitioner", str(practitioner.id))
    assert entry.before == {"suspended": False} and entry.after == {"suspended": True}


def test_record_audit_accepts_no_actor_and_explicit_records(app):
    record_audit(None, "referral.opened", object_type="Referral", object_id=42, after={"status": "requested"})
    db.session.commit()
    [entry] = audit_entries("referral.opened")
    assert entry.actor_id is None and entry.object_id == "42"


def test_audit_page_lists_entries_newest_first_with_values(admin_client, admin_user):  # noqa: F811
    _entry(
        admin_user,
        "practitioner.suspended",
        after={"reason": "Complaint about claims"},
        at=datetime(2031, 1, 1, tzinfo=UTC),
    )
    _entry(admin_user, "user.disabled", object_type="User", object_id=7, at=datetime(2031, 1, 2, tzinfo=UTC))
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert html.index("<code>user.disabled</code>") < html.index("<code>practitioner.suspended</code>")
    assert "Complaint about claims" in html and "admin@example.org" in html and "2031-01-02" in html


def test_audit_page_filters_by_actor_action_record_and_dates(admin_client, admin_user):  # noqa: F811
    other = UserFactory(role=Role.ADMIN, email="second.admin@example.org")
    _entry(admin_user, "practitioner.suspended", object_id=1, at=datetime(2031, 1, 1, 12, tzinfo=UTC))
    _entry(other, "practitioner.published", object_id=2, at=datetime(2031, 1, 5, 12, tzinfo=UTC))
    _entry(other, "condition.renamed", object_type="Condition", object_id=3, at=datetime(2031, 1, 9, 12, tzinfo=UTC))

    def actions(query: str) -> list[str]:
        html = admin_client.get("/admin/audit?" + query).get_data(as_text=True)
        table = html[html.index("<tbody>") :]
        return [
            a
            for a in ("practitioner.suspended", "practitioner.published", "condition.renamed")
            if f"<code>{a}</code>" in table
        ]

    assert actions("actor=second.admin") == ["practitioner.published", "condition.renamed"]
    assert actions("action=practitioner.suspended") == ["practitioner.suspended"]
    assert actions("object_type=Condition") == ["condition.renamed"]
    assert actions("object_type=Practitioner&object_id=2") == ["practitioner.published"]
    assert actions("date_from=2031-01-05&date_to=2031-01-05") == ["practitioner.published"]
    assert actions("date_from=2031-01-02") == ["practitioner.published", "condition.renamed"]
    assert actions("date_to=2031-01-04") == ["practitioner.suspended"]


def test_audit_page_refuses_a_bad_date_clearly(admin_client):  # noqa: F811
    response = admin_client.get("/admin/audit?date_from=yesterday")
    assert response.status_code == 400 and "Not a valid date value." in response.get_data(as_text=True)


def test_audit_page_is_paginated(admin_client, admin_user):  # noqa: F811
    start = datetime(2031, 1, 1, tzinfo=UTC)
    for i in range(55):
        record_audit(admin_user, "user.enabled", object_type="User", object_id=i).at = start + timedelta(minutes=i)
    db.session.commit()
    first = admin_client.get("/admin/audit?action=user.enabled").get_data(as_text=True)
    assert "55 entries" in first and "Page 1 of 2" in first
    assert "page=2" in first and "action=user.enabled" in first
    second = admin_client.get("/admin/audit?action=user.enabled&page=2").get_data(as_text=True)
    assert second.count("<code>user.enabled</code>") == 5


def test_the_audit_log_cannot_be_changed_from_the_site(app, admin_client, admin_user):  # noqa: F811
    _entry(admin_user, "user.disabled")
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    assert admin_client.post("/admin/audit").status_code in (400, 405)
    assert admin_client.delete("/admin/audit").status_code == 405
    assert db.session.execute(db.select(db.func.count(AuditLog.id))).scalar() == 1


def test_the_actor_filter_takes_underscore_and_percent_literally(admin_client, admin_user):  # noqa: F811
    for email in ("ann_lee@example.org", "annxlee@example.org", "pct100%@example.org"):
        _entry(UserFactory(email=email, role=Role.ADMIN), "practitioner.published")
    html = admin_client.get("/admin/audit?actor=ann_l").get_data(as_text=True)
    assert "ann_lee@example.org" in html and "annxlee@example.org" not in html
    html = admin_client.get("/admin/audit?actor=%25").get_data(as_text=True)
    assert "pct100%@example.org" in html and "ann_lee@example.org" not in html


def test_the_audit_log_is_indexed_by_record_for_the_record_filter(app):
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(db.engine).get_indexes("audit_log")}
    assert indexes["ix_audit_log_object"] == ["object_type", "object_id"]


# --- The log names people and records, with links ----------------------------------------------


def _record_cell(html: str, action: str) -> str:
    """The Record cell of the (first) row of this action."""
    row = re.search(rf"<tr>(?:(?!</tr>).)*<code>{re.escape(action)}</code>(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    return re.search(r'<td class="audit-record">(.*?)</td>', row, re.S).group(1)


def test_the_log_names_the_practitioner_credential_and_body_and_links_to_them(admin_client):  # noqa: F811
    from tests.conftest import submit_form
    from tests.factories import CertificationFactory

    jane = PractitionerFactory(display_name="Jane Doe", email="jane@example.org")
    cert = CertificationFactory(practitioner=jane, credential="CST-T")
    waiting = CertificationFactory(practitioner=jane, credential="CST-D")
    submit_form(
        admin_client,
        "/admin/credentials",
        {"method": "register checked", "reference": "UI-1287"},
        post_url=f"/admin/credentials/{cert.id}/verify",
    )
    record_audit(None, "certification.reminded", waiting)
    db.session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    cell = _record_cell(html, "certification.verified")
    assert f'<a href="/admin/practitioners?q=jane@example.org#practitioner-{jane.id}">' in cell
    assert "Jane Doe&#39;s CST-T from Upledger Institute International</a>" in cell
    assert f"Certification {cert.id}" not in cell
    assert f'href="/admin/audit?object_type=Certification&amp;object_id={cert.id}"' in cell
    # A credential still waiting links to its place in the queue.
    cell = _record_cell(html, "certification.reminded")
    assert f'href="/admin/credentials?q=jane@example.org#cert-{waiting.id}"' in cell
    assert "Jane Doe&#39;s CST-D from Upledger Institute International" in cell


def test_the_log_names_the_admin_who_acted_with_a_link(admin_client, admin_user):  # noqa: F811
    _entry(admin_user, "user.disabled", object_type="User", object_id=admin_user.id)
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    actor = re.search(r'<td class="audit-actor">(.*?)</td>', html, re.S).group(1)
    assert f'href="/admin/users?q=admin@example.org#user-{admin_user.id}"' in actor
    assert admin_user.name in actor and "admin@example.org" in actor


def test_the_log_names_profiles_accounts_conditions_bodies_and_credentials(admin_client, admin_user):  # noqa: F811
    from tests.factories import body, condition

    practitioner = PractitionerFactory(display_name="Paul Profile", email="paul@example.org")
    from directory.models.accounts import ProviderStatus

    provider = UserFactory(
        role=Role.PROVIDER, name="Dr. Prov", email="prov@example.org", provider_status=ProviderStatus.VERIFIED
    )
    upledger = body("upledger")
    tmj = condition("tmj")
    record_audit(admin_user, "practitioner.suspended", practitioner)
    record_audit(admin_user, "provider.verified", provider)
    record_audit(admin_user, "condition.renamed", tmj)
    record_audit(admin_user, "body.updated", upledger)
    record_audit(admin_user, "credential.updated", upledger.credentials[0])
    db.session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert (
        f'<a href="/admin/practitioners?q=paul@example.org#practitioner-{practitioner.id}">Paul Profile&#39;s profile</a>'
        in _record_cell(html, "practitioner.suspended")
    )
    assert (
        f'<a href="/admin/users?q=prov@example.org#user-{provider.id}">Dr. Prov&#39;s provider account</a>'
        in _record_cell(html, "provider.verified")
    )
    assert f'<a href="/admin/conditions#condition-{tmj.id}">the condition “{tmj.name}”</a>' in _record_cell(
        html, "condition.renamed"
    )
    assert f'<a href="/admin/bodies/{upledger.id}">Upledger Institute International</a>' in _record_cell(
        html, "body.updated"
    )
    code = upledger.credentials[0].code
    assert f"{code} of Upledger Institute International</a>" in _record_cell(html, "credential.updated")


def test_a_record_that_is_gone_is_named_from_what_the_entry_kept(admin_client, admin_user):  # noqa: F811
    _entry(admin_user, "condition.merged", object_type="Condition", object_id=9999, before={"name": "Old Name"})
    _entry(admin_user, "practitioner.deleted", object_type="Practitioner", object_id=8888)
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "Condition “Old Name” (no longer exists)" in _record_cell(html, "condition.merged")
    assert "Practitioner 8888 (no longer exists)" in _record_cell(html, "practitioner.deleted")
    assert "<a href" not in _record_cell(html, "condition.merged").split("<br>")[0]
