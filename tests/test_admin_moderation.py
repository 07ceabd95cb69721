"""Admins publish, unpublish, suspend and reinstate profiles, and disable or enable accounts."""

from __future__ import annotations

from directory.extensions import db
from directory.models import ApiToken, Role
from tests.admin_support import admin_client, audit_entries, fresh, outbox  # noqa: F401
from tests.conftest import login, submit_form
from tests.factories import PractitionerFactory, UserFactory


def test_profiles_page_finds_practitioners_by_name_or_email_and_state(admin_client):  # noqa: F811
    PractitionerFactory(display_name="Sam Search", email="sam@example.org")
    PractitionerFactory(display_name="Una Unpublished", published=False)
    PractitionerFactory(display_name="Sid Suspended", suspended=True, suspension_reason="Complaint")
    html = admin_client.get("/admin/practitioners?q=sam%40").get_data(as_text=True)
    assert "Sam Search" in html and "Una Unpublished" not in html
    html = admin_client.get("/admin/practitioners?state=unpublished").get_data(as_text=True)
    assert "Una Unpublished" in html and "Sam Search" not in html
    html = admin_client.get("/admin/practitioners?state=suspended").get_data(as_text=True)
    assert "Sid Suspended" in html and "Complaint" in html
    assert admin_client.get("/admin/practitioners?q=100%25_").status_code == 200


def test_admin_suspends_a_profile_with_a_reason_and_it_leaves_the_directory(client, admin_user):
    practitioner = PractitionerFactory(email="sue@example.org", display_name="Sue Spended")
    assert client.get(f"/practitioners/{practitioner.id}").status_code == 200
    login(client, admin_user)
    response = submit_form(
        client,
        "/admin/practitioners",
        {"reason": "Several complaints about unsupported health claims."},
        post_url=f"/admin/practitioners/{practitioner.id}/suspend",
    )
    assert response.status_code == 303
    practitioner = fresh(practitioner)
    assert practitioner.suspended and practitioner.suspension_reason.startswith("Several complaints")
    assert client.get(f"/practitioners/{practitioner.id}").status_code == 404
    [mail] = outbox("sue@example.org")
    assert "suspended" in mail.subject and "unsupported health claims" in mail.text_body
    [entry] = audit_entries("practitioner.suspended")
    assert entry.before["suspended"] is False and entry.after["suspended"] is True
    assert entry.after["reason"].startswith("Several complaints") and entry.actor_id == admin_user.id


def test_suspension_needs_a_reason(admin_client):  # noqa: F811
    practitioner = PractitionerFactory()
    response = submit_form(
        admin_client, "/admin/practitioners", {"reason": ""}, post_url=f"/admin/practitioners/{practitioner.id}/suspend"
    )
    assert response.status_code == 400
    assert "reason for the suspension" in response.get_data(as_text=True)
    assert not fresh(practitioner).suspended and audit_entries() == []


def test_admin_reinstates_a_suspended_profile(admin_client):  # noqa: F811
    practitioner = PractitionerFactory(email="back@example.org", suspended=True, suspension_reason="x")
    response = submit_form(
        admin_client, "/admin/practitioners", {}, post_url=f"/admin/practitioners/{practitioner.id}/reinstate"
    )
    assert response.status_code == 303
    assert not fresh(practitioner).suspended
    assert len(outbox("back@example.org")) == 1
    assert len(audit_entries("practitioner.reinstated")) == 1


def test_admin_unpublishes_then_publishes_a_profile_telling_the_practitioner(client, admin_user):
    practitioner = PractitionerFactory(email="pub@example.org")
    login(client, admin_user)
    submit_form(
        client,
        "/admin/practitioners",
        {"reason": "Your profile photo breaks the rules."},
        post_url=f"/admin/practitioners/{practitioner.id}/unpublish",
    )
    assert not fresh(practitioner).published
    assert client.get(f"/practitioners/{practitioner.id}").status_code == 404
    submit_form(client, "/admin/practitioners", {}, post_url=f"/admin/practitioners/{practitioner.id}/publish")
    assert fresh(practitioner).published
    assert client.get(f"/practitioners/{practitioner.id}").status_code == 200
    unpublished, published = outbox("pub@example.org")
    assert "photo breaks the rules" in unpublished.text_body and "published" in published.subject
    [off] = audit_entries("practitioner.unpublished")
    [on] = audit_entries("practitioner.published")
    assert off.before["published"] is True and off.after["published"] is False
    assert on.before["published"] is False and on.after["published"] is True


def test_publishing_a_published_profile_is_a_conflict(admin_client):  # noqa: F811
    practitioner = PractitionerFactory()
    response = submit_form(
        admin_client, "/admin/practitioners", {}, post_url=f"/admin/practitioners/{practitioner.id}/publish"
    )
    assert response.status_code == 409 and "already published" in response.get_data(as_text=True)
    assert audit_entries() == []


def test_users_page_lists_and_searches_accounts(admin_client, practitioner_user, provider_user):  # noqa: F811
    html = admin_client.get("/admin/users").get_data(as_text=True)
    assert practitioner_user.email in html and provider_user.email in html
    html = admin_client.get("/admin/users?q=rivera").get_data(as_text=True)
    assert provider_user.email in html and practitioner_user.email not in html
    html = admin_client.get("/admin/users?role=practitioner").get_data(as_text=True)
    assert practitioner_user.email in html and provider_user.email not in html


def test_disabled_account_cannot_sign_in_or_use_its_token_until_enabled(app, client, admin_user, provider_user):
    token_row, token = ApiToken.issue(provider_user, "test")
    db.session.commit()
    provider_client = app.test_client()
    login(provider_client, provider_user)
    assert provider_client.get("/referrals/").status_code in (200, 302)
    assert ApiToken.find_user(token) is not None

    login(client, admin_user)
    response = submit_form(client, "/admin/users", {}, post_url=f"/admin/users/{provider_user.id}/disable")
    assert response.status_code == 303, response.get_data(as_text=True)
    user = fresh(provider_user)
    assert user.disabled and not user.is_active
    assert ApiToken.find_user(token) is None
    # The old session is over: the account area asks to sign in again.
    assert provider_client.get("/referrals/").status_code in (302, 401, 404)
    assert client.get("/admin/users?q=rivera").get_data(as_text=True).count("Disabled") >= 1
    [entry] = audit_entries("user.disabled")
    assert entry.before == {"disabled": False} and entry.after == {"disabled": True}
    assert entry.object_id == str(user.id)

    submit_form(client, "/admin/users", {}, post_url=f"/admin/users/{user.id}/enable")
    assert not fresh(user).disabled and ApiToken.find_user(token) is not None
    assert len(audit_entries("user.enabled")) == 1
    assert [m.subject for m in outbox(user.email)] == ["Your account is disabled", "Your account is enabled again"]


def test_admin_cannot_disable_their_own_account(admin_client, admin_user):  # noqa: F811
    response = submit_form(admin_client, "/admin/users", {}, post_url=f"/admin/users/{admin_user.id}/disable")
    assert response.status_code == 409
    assert not fresh(admin_user).disabled


def test_other_admins_can_be_disabled_and_then_lose_the_admin_area(app, admin_client):  # noqa: F811
    other = UserFactory(role=Role.ADMIN, email="other.admin@example.org")
    other_client = app.test_client()
    login(other_client, other)
    assert other_client.get("/admin/").status_code == 200
    submit_form(admin_client, "/admin/users", {}, post_url=f"/admin/users/{other.id}/disable")
    assert other_client.get("/admin/").status_code == 404


def test_admin_searches_take_percent_and_underscore_literally(admin_client):  # noqa: F811
    PractitionerFactory(display_name="Pia Hundred Percent", email="pia.100%@example.org")
    PractitionerFactory(display_name="Uma Underscore", email="uma_under@example.org")
    PractitionerFactory(display_name="Ursula Letter", email="umaxunder@example.org")
    html = admin_client.get("/admin/practitioners?q=%25").get_data(as_text=True)
    assert "Pia Hundred Percent" in html and "Uma Underscore" not in html and "Ursula Letter" not in html
    html = admin_client.get("/admin/practitioners?q=uma_u").get_data(as_text=True)
    assert "Uma Underscore" in html and "Ursula Letter" not in html
    UserFactory(email="jo_smith@example.org", name="Jo Underscore")
    UserFactory(email="joxsmith@example.org", name="Jo Letter")
    html = admin_client.get("/admin/users?q=jo_s").get_data(as_text=True)
    assert "jo_smith@example.org" in html and "joxsmith@example.org" not in html
