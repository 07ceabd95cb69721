"""Only the referring provider, the receiving practitioner and admins see a referral: 404 for
everyone else on every page and API route; admins' looks are recorded in the audit log."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from itsdangerous import URLSafeTimedSerializer

from directory.extensions import db
from directory.models import AuditLog, Referral, Role
from directory.models.accounts import ProviderStatus
from directory.referrals import workflow
from tests.conftest import login
from tests.factories import UserFactory
from tests.referral_helpers import PATIENT, make_referral, token_for


def csrf_token(client) -> str:
    """A valid CSRF token for this client's session, for users who have no form to read it from."""
    with client.session_transaction() as session:
        raw = session.get("csrf_token") or hashlib.sha1(secrets.token_bytes(64)).hexdigest()  # noqa: S324
        session["csrf_token"] = raw
    return URLSafeTimedSerializer(client.application.secret_key, salt="wtf-csrf-token").dumps(raw)


def page_routes(rid: int) -> list[tuple[str, str, dict]]:
    """Every page route about one referral: (method, url, form data)."""
    return [
        ("GET", f"/referrals/{rid}", {}),
        ("GET", f"/referrals/{rid}/letter", {}),
        ("GET", f"/referrals/{rid}/edit", {}),
        ("POST", f"/referrals/{rid}/edit", {"patient_name": "X", "save_draft": "Save as draft"}),
        ("POST", f"/referrals/{rid}/transitions", {"status": "cancelled", "version": "1"}),
        ("POST", f"/referrals/{rid}/messages", {"body": "Hello"}),
        ("POST", f"/referrals/{rid}/delete", {}),
    ]


def api_routes(rid: int) -> list[tuple[str, str, dict | None]]:
    """Every API route about one referral: (method, url, JSON body)."""
    return [
        ("GET", f"/api/v1/referrals/{rid}", None),
        ("POST", f"/api/v1/referrals/{rid}/transitions", {"status": "cancelled"}),
        ("POST", f"/api/v1/referrals/{rid}/transitions", {"status": "accepted"}),
        ("GET", f"/api/v1/referrals/{rid}/fhir", None),
    ]


STRANGERS = ["anonymous", "other_provider_user", "other_practitioner_user", "pending_provider"]


def stranger(request, name):
    """The user for a stranger role, or None for anonymous."""
    if name == "anonymous":
        return None
    if name == "pending_provider":
        return UserFactory(role=Role.PROVIDER, provider_status=ProviderStatus.PENDING)
    return request.getfixturevalue(name)


@pytest.mark.parametrize("status", [workflow.REQUESTED, workflow.DRAFT, workflow.COMPLETED])
@pytest.mark.parametrize("who", STRANGERS)
def test_strangers_get_404_from_every_page_route(client, request, provider_user, practitioner_user, who, status):
    referral = make_referral(provider_user, practitioner_user, status=status)
    user = stranger(request, who)
    if user is not None:
        login(client, user)
    for method, url, data in page_routes(referral.id):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client), **data})
        assert response.status_code == 404, (method, url)
        assert PATIENT["name"] not in response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(Referral, referral.id)
    assert stored.status == status and stored.messages == []


@pytest.mark.parametrize("status", [workflow.REQUESTED, workflow.DRAFT])
@pytest.mark.parametrize("who", STRANGERS)
def test_strangers_get_404_from_every_api_route(client, request, provider_user, practitioner_user, who, status):
    referral = make_referral(provider_user, practitioner_user, status=status)
    user = stranger(request, who)
    headers = token_for(user) if user is not None else {}
    for method, url, body in api_routes(referral.id):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 404, (method, url)
        assert response.get_json() == {"error": "We could not find that page."}
    listed = client.get("/api/v1/referrals", headers=headers)
    if user is not None:
        assert referral.id not in [r["id"] for r in listed.get_json()["results"]]
    else:
        assert listed.status_code == 401


def test_the_recipient_never_sees_drafts(client, provider_user, practitioner_user):
    draft = make_referral(provider_user, practitioner_user, status=workflow.DRAFT)
    login(client, practitioner_user)
    for method, url, data in page_routes(draft.id):
        response = (
            client.get(url) if method == "GET" else client.post(url, data={"csrf_token": csrf_token(client), **data})
        )
        assert response.status_code == 404, url
    headers = token_for(practitioner_user)
    for method, url, body in api_routes(draft.id):
        assert client.open(url, method=method, json=body, headers=headers).status_code == 404
    assert client.get("/api/v1/referrals", headers=headers).get_json()["count"] == 0


def test_strangers_do_not_see_referrals_in_their_lists(
    client, provider_user, practitioner_user, other_provider_user, other_practitioner_user
):
    make_referral(provider_user, practitioner_user)
    for user in (other_provider_user, other_practitioner_user):
        login(client, user)
        html = client.get("/referrals/").get_data(as_text=True)
        assert PATIENT["name"] not in html and "No referrals" in html


@pytest.mark.parametrize("who", ["provider_user", "practitioner_user", "admin_user"])
def test_the_two_parties_and_admins_see_the_referral(client, request, provider_user, practitioner_user, who):
    referral = make_referral(provider_user, practitioner_user)
    user = request.getfixturevalue(who)
    login(client, user)
    for url in (f"/referrals/{referral.id}", f"/referrals/{referral.id}/letter"):
        response = client.get(url)
        assert response.status_code == 200
        assert PATIENT["name"] in response.get_data(as_text=True)
    headers = token_for(user)
    assert (
        client.get(f"/api/v1/referrals/{referral.id}", headers=headers).get_json()["patient"]["name"] == PATIENT["name"]
    )
    assert client.get(f"/api/v1/referrals/{referral.id}/fhir", headers=headers).status_code == 200
    assert referral.id in [r["id"] for r in client.get("/api/v1/referrals", headers=headers).get_json()["results"]]


def test_an_admin_opening_a_referral_is_recorded(client, provider_user, practitioner_user, admin_user):
    referral = make_referral(provider_user, practitioner_user)
    login(client, admin_user)
    assert client.get(f"/referrals/{referral.id}").status_code == 200
    assert client.get(f"/api/v1/referrals/{referral.id}", headers=token_for(admin_user)).status_code == 200
    entries = db.session.execute(db.select(AuditLog).where(AuditLog.action == "referral.opened")).scalars().all()
    assert len(entries) == 2
    for entry in entries:
        assert (entry.actor_id, entry.object_type, entry.object_id) == (admin_user.id, "referral", str(referral.id))
    # An admin's look does not count as the practitioner opening it.
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "requested"
    # The parties' looks are not audited.
    login(client, provider_user)
    client.get(f"/referrals/{referral.id}")
    assert db.session.execute(db.select(db.func.count(AuditLog.id))).scalar_one() == 2


def test_admins_read_but_do_not_act_or_write(client, provider_user, practitioner_user, admin_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    login(client, admin_user)
    html = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Accept" not in html and "Send message" not in html
    response = client.post(f"/referrals/{referral.id}/messages", data={"csrf_token": csrf_token(client), "body": "Hi"})
    assert response.status_code == 403


def test_unknown_referrals_are_404_everywhere(client, provider_user):
    login(client, provider_user)
    assert client.get("/referrals/424242").status_code == 404
    headers = token_for(provider_user)
    assert client.get("/api/v1/referrals/424242", headers=headers).status_code == 404
    assert client.get("/api/v1/referrals/424242/fhir", headers=headers).status_code == 404


def test_a_wrong_token_on_a_referral_answers_401(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    response = client.get(f"/api/v1/referrals/{referral.id}", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


def test_signed_out_visitors_are_offered_to_sign_in(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    response = client.get(f"/referrals/{referral.id}")
    assert response.status_code == 404
    assert "sign in" in response.get_data(as_text=True)


def test_the_admin_list_names_no_patient_until_a_referral_is_opened(
    client, provider_user, practitioner_user, admin_user
):
    referral = make_referral(provider_user, practitioner_user)
    login(client, admin_user)
    html = client.get("/referrals/").get_data(as_text=True)
    assert f"/referrals/{referral.id}" in html and PATIENT["name"] not in html
    assert db.session.execute(db.select(db.func.count(AuditLog.id))).scalar_one() == 0


# --- Who commits: the request, once, at its end ---------------------------------------------


def test_looking_a_referral_up_commits_nothing_the_request_does(app, provider_user, practitioner_user, admin_user):
    from directory.referrals.service import get_referral_or_404

    referral = make_referral(provider_user, practitioner_user)
    with app.test_request_context():
        get_referral_or_404(referral.id, admin_user)
        get_referral_or_404(referral.id, practitioner_user)
        db.session.rollback()  # the request failed after the look
    assert db.session.execute(db.select(db.func.count(AuditLog.id))).scalar_one() == 0
    assert db.session.get(Referral, referral.id).status == "requested"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/edit", 403), ("POST", "/delete", 403), ("POST", "/transitions", 403), ("POST", "/messages", 403)],
)
def test_an_admins_look_is_recorded_even_when_the_page_then_refuses(
    client, provider_user, practitioner_user, admin_user, method, path, status
):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    login(client, admin_user)
    data = {"csrf_token": csrf_token(client), "status": "accepted", "version": referral.version, "body": "Hi"}
    response = client.open(f"/referrals/{referral.id}{path}", method=method, data=data if method == "POST" else None)
    assert response.status_code == status
    entries = db.session.execute(db.select(AuditLog).where(AuditLog.action == "referral.opened")).scalars().all()
    assert [(e.actor_id, e.object_id) for e in entries] == [(admin_user.id, str(referral.id))]


def test_the_recipient_opens_a_referral_even_when_the_page_refuses_what_they_asked(
    client, provider_user, practitioner_user
):
    referral = make_referral(provider_user, practitioner_user)
    login(client, practitioner_user)
    assert client.get(f"/referrals/{referral.id}/edit").status_code == 403
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "received"
    other = make_referral(provider_user, practitioner_user)
    data = {"csrf_token": csrf_token(client), "status": "completed", "note": "Done", "version": other.version}
    response = client.post(f"/referrals/{other.id}/transitions", data=data)
    assert response.status_code == 409  # received cannot become completed ...
    db.session.expire_all()
    assert db.session.get(Referral, other.id).status == "received"  # ... but it was opened
    assert [e.status for e in db.session.get(Referral, other.id).events] == ["requested", "received"]
