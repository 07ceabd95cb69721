"""Accounts: sign up, confirm, sign in and out, reset and change credentials, API tokens,
privacy (export and delete), the operators' CLI, and who may do what."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from directory.accounts.passwords import hash_password
from directory.accounts.tokens import account_stamp, make_token
from directory.extensions import db
from directory.models import ApiToken, OutboxMessage, Practitioner, Referral, Role, User
from directory.models.accounts import ProviderStatus
from tests.conftest import csrf_token_from, login, submit_form
from tests.factories import PractitionerFactory, UserFactory

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a quite different passphrase 42"
LINK_RE = re.compile(r"http://localhost(/account/\S+)")


def make_user(email: str = "sam@example.org", password: str = PASSWORD, **kwargs) -> User:
    """A confirmed account (unless confirmed_at=None) with a known password."""
    return UserFactory(email=email, password_hash=hash_password(password), **kwargs)


def mails_to(recipient: str) -> list[OutboxMessage]:
    """The outbox messages for an address, oldest first."""
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)
    return db.session.execute(query).scalars().all()


def link_from_mail(recipient: str, contains: str) -> str:
    """The path of the newest link containing `contains` in a message to the recipient."""
    for message in reversed(mails_to(recipient)):
        for path in LINK_RE.findall(message.text_body):
            if contains in path:
                return path
    raise AssertionError(f"no {contains} link in mail to {recipient}")


def sign_in(client, email: str, password: str = PASSWORD, **extra):
    """Sign in through the real form."""
    return submit_form(client, "/account/login", {"email": email, "password": password, **extra})


def user_by_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def page(response) -> str:
    return response.get_data(as_text=True)


# --- Sign up and confirmation -------------------------------------------------------------


def test_practitioner_signs_up_confirms_email_and_lands_on_dashboard(client):
    response = submit_form(
        client, "/account/signup", {"email": "New.Person@Example.org", "password": PASSWORD, "role": "practitioner"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/login")
    user = user_by_email("new.person@example.org")
    assert user is not None and user.role == Role.PRACTITIONER and not user.is_confirmed
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash

    confirm = link_from_mail("new.person@example.org", "/account/confirm/")
    assert client.get(confirm).status_code == 302
    assert user_by_email("new.person@example.org").is_confirmed

    response = sign_in(client, "new.person@example.org")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"


def test_provider_must_give_professional_details_and_starts_pending(client):
    data = {"email": "dr.new@example.org", "password": PASSWORD, "role": "provider"}
    response = submit_form(client, "/account/signup", data)
    assert response.status_code == 400
    assert "Healthcare providers must fill this in." in page(response)
    assert user_by_email("dr.new@example.org") is None

    details = {
        "name": "Dr. New",
        "profession": "Physician",
        "organization": "Clinic",
        "phone": "+1 303 555 0100",
        "registration_number": "MD-1",
    }
    response = submit_form(client, "/account/signup", {**data, **details})
    assert response.status_code == 302
    user = user_by_email("dr.new@example.org")
    assert user.role == Role.PROVIDER and user.provider_status == ProviderStatus.PENDING
    assert (user.name, user.profession, user.registration_number) == ("Dr. New", "Physician", "MD-1")


@pytest.mark.parametrize(
    "password, message",
    [
        ("short1!", "at least 10 characters"),
        ("1234567890", "most commonly used"),
        ("QwertyUiop", "most commonly used"),
        ("aaaaaaaaaaaaaa", "too easy to guess"),
        ("sam.smith-2024!", "must not contain your email"),
    ],
)
def test_signup_refuses_short_common_and_guessable_passwords(client, password, message):
    data = {"email": "sam.smith@example.org", "password": password, "role": "practitioner"}
    response = submit_form(client, "/account/signup", data)
    assert response.status_code == 400
    assert message in page(response)
    assert user_by_email("sam.smith@example.org") is None


def test_signup_refuses_a_missing_role_and_a_bad_email(client):
    response = submit_form(client, "/account/signup", {"email": "not-an-email", "password": PASSWORD})
    assert response.status_code == 400
    assert "Choose practitioner or healthcare provider." in page(response)
    assert "Invalid email address." in page(response)
    assert db.session.execute(select(User)).first() is None


def test_signing_up_with_a_taken_email_answers_the_same_and_warns_the_owner(client):
    make_user("taken@example.org", role=Role.ADMIN)
    fresh = submit_form(
        client, "/account/signup", {"email": "fresh@example.org", "password": PASSWORD, "role": "practitioner"}
    )
    taken = submit_form(
        client, "/account/signup", {"email": "taken@example.org", "password": PASSWORD, "role": "practitioner"}
    )
    assert fresh.status_code == taken.status_code == 302
    assert fresh.headers["Location"] == taken.headers["Location"]
    fresh_page = page(client.get("/account/login"))  # shows the flash of the second sign-up
    assert "We sent a confirmation link to taken@example.org" in fresh_page
    assert db.session.execute(select(User).where(User.email == "taken@example.org")).scalar_one().role == Role.ADMIN
    [warning] = mails_to("taken@example.org")
    assert "already has one" in warning.text_body and "/account/confirm/" not in warning.text_body


def test_confirmation_link_that_is_forged_expired_or_for_another_purpose_is_refused(app, client):
    user = make_user("late@example.org", confirmed_at=None)
    good = make_token("confirm-email", {"uid": user.id, "email": user.email})

    forged = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    assert client.get(f"/account/confirm/{forged}").status_code == 400
    reset_token = make_token("reset-password", {"uid": user.id, "email": user.email})
    assert client.get(f"/account/confirm/{reset_token}").status_code == 400

    app.config["ACCOUNT_CONFIRM_MAX_AGE"] = -1
    response = client.get(f"/account/confirm/{good}")
    assert response.status_code == 400 and "expired" in page(response)
    assert not user_by_email("late@example.org").is_confirmed

    app.config["ACCOUNT_CONFIRM_MAX_AGE"] = 3600
    assert client.get(f"/account/confirm/{good}").status_code == 302
    assert user_by_email("late@example.org").is_confirmed
    # Following it again does no harm.
    assert client.get(f"/account/confirm/{good}").status_code == 302


def test_confirming_attaches_the_imported_profile_with_the_same_email(client):
    imported = PractitionerFactory(email="Imported.Therapist@Example.org", display_name="Imported Therapist")
    submit_form(
        client,
        "/account/signup",
        {"email": "imported.therapist@example.org", "password": PASSWORD, "role": "practitioner"},
    )
    user = user_by_email("imported.therapist@example.org")
    assert db.session.get(Practitioner, imported.id).user is None  # not before confirmation
    client.get(link_from_mail("imported.therapist@example.org", "/account/confirm/"))
    db.session.expire_all()
    assert db.session.get(Practitioner, imported.id).user_id == user.id


def test_confirming_never_takes_a_profile_that_someone_already_owns(client):
    owned = PractitionerFactory(email="shared.inbox@example.org", user=None)
    owned.user = make_user("owner@example.org")
    db.session.commit()
    submit_form(
        client, "/account/signup", {"email": "shared.inbox@example.org", "password": PASSWORD, "role": "practitioner"}
    )
    client.get(link_from_mail("shared.inbox@example.org", "/account/confirm/"))
    db.session.expire_all()
    assert db.session.get(Practitioner, owned.id).user.email == "owner@example.org"


def test_a_provider_confirming_never_claims_a_practitioner_profile(client):
    profile = PractitionerFactory(email="both@example.org")
    submit_form(
        client,
        "/account/signup",
        {
            "email": "both@example.org",
            "password": PASSWORD,
            "role": "provider",
            "name": "B",
            "profession": "Physician",
            "organization": "O",
            "phone": "1",
            "registration_number": "R",
        },
    )
    client.get(link_from_mail("both@example.org", "/account/confirm/"))
    db.session.expire_all()
    assert db.session.get(Practitioner, profile.id).user is None


def test_unconfirmed_user_signs_in_sees_the_notice_and_cannot_create_tokens(client):
    make_user("unsure@example.org", confirmed_at=None)
    response = sign_in(client, "unsure@example.org")
    assert response.status_code == 302
    settings = page(client.get("/account/"))
    assert "Please confirm your email address" in settings
    assert "Confirm your email address to create API tokens." in settings

    response = submit_form(client, "/account/", {"name": "x"}, post_url="/account/tokens")
    assert response.status_code == 403
    assert "confirm your email address first" in page(response)
    assert db.session.execute(select(ApiToken)).first() is None

    # The notice offers a new link.
    response = submit_form(client, "/account/", {}, post_url="/account/confirm/resend")
    assert response.status_code == 302
    assert len(mails_to("unsure@example.org")) == 1
    client.get(link_from_mail("unsure@example.org", "/account/confirm/"))
    assert "Please confirm your email address" not in page(client.get("/account/"))


# --- Sign in and out ----------------------------------------------------------------------


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    make_user("known@example.org")
    wrong = sign_in(client, "known@example.org", "not the password at all")
    unknown = sign_in(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 400
    assert "That email and password do not match an account." in page(wrong)
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # the echoed email and CSRF token differ
    assert strip(page(wrong)).replace("known@", "X@") == strip(page(unknown)).replace("nobody@", "X@")


@pytest.mark.parametrize(
    "role, home", [(Role.PRACTITIONER, "/dashboard/"), (Role.PROVIDER, "/referrals/"), (Role.ADMIN, "/admin/")]
)
def test_each_role_lands_in_its_own_area_after_signing_in(client, role, home):
    make_user("who@example.org", role=role)
    response = sign_in(client, "WHO@example.org ")
    assert response.status_code == 302 and response.headers["Location"] == home


def test_remember_me_sets_a_lasting_cookie_only_when_asked(client, app):
    make_user("stay@example.org")
    sign_in(client, "stay@example.org")
    assert client.get_cookie("remember_token") is None
    client.post("/account/logout", data={"csrf_token": csrf_token_from(page(client.get("/account/")))})

    sign_in(client, "stay@example.org", remember="y")
    assert client.get_cookie("remember_token") is not None
    # A new browser session with only the remember cookie is still signed in.
    with client.session_transaction() as session:
        session.clear()
    assert client.get("/account/").status_code == 200


def test_sign_in_follows_only_local_next_links(client):
    make_user("next@example.org")
    response = submit_form(
        client,
        "/account/login",
        {"email": "next@example.org", "password": PASSWORD},
        post_url="/account/login?next=/account/data.json",
    )
    assert response.headers["Location"] == "/account/data.json"
    client.post("/account/logout", data={"csrf_token": csrf_token_from(page(client.get("/account/")))})
    response = submit_form(
        client,
        "/account/login",
        {"email": "next@example.org", "password": PASSWORD},
        post_url="/account/login?next=//evil.example/x",
    )
    assert response.headers["Location"] == "/dashboard/"


def test_disabled_account_cannot_sign_in(client):
    make_user("gone@example.org", disabled=True)
    response = sign_in(client, "gone@example.org")
    assert response.status_code == 400
    assert client.get("/account/").status_code == 302


def test_sign_out_is_a_post_with_a_csrf_token(client):
    make_user("out@example.org")
    sign_in(client, "out@example.org")
    assert client.get("/account/logout").status_code == 405
    assert client.post("/account/logout").status_code == 400
    assert client.get("/account/").status_code == 200
    response = submit_form(client, "/account/", {}, post_url="/account/logout")
    assert response.status_code == 302
    assert client.get("/account/").status_code == 302


def test_navbar_offers_sign_in_when_signed_out_and_role_links_when_signed_in(client, provider_user):
    html = page(client.get("/"))
    assert 'href="/account/login"' in html and 'href="/account/signup"' in html
    login(client, provider_user)
    html = page(client.get("/"))
    assert 'href="/referrals/"' in html and 'href="/account/"' in html
    assert 'action="/account/logout"' in html and "Sign out" in html
    assert 'href="/account/login"' not in html


# --- Forgotten password -------------------------------------------------------------------


def test_forgotten_password_is_reset_through_a_single_use_link(client):
    make_user("forgetful@example.org")
    response = submit_form(client, "/account/forgot-password", {"email": "Forgetful@example.org"})
    assert response.status_code == 302
    reset = link_from_mail("forgetful@example.org", "/account/reset/")

    assert client.get(reset).status_code == 200
    response = submit_form(client, reset, {"password": "password123"})
    assert response.status_code == 400 and "most commonly used" in page(response)
    response = submit_form(client, reset, {"password": NEW_PASSWORD})
    assert response.status_code == 302

    assert sign_in(client, "forgetful@example.org", PASSWORD).status_code == 400
    assert sign_in(client, "forgetful@example.org", NEW_PASSWORD).status_code == 302
    # The link died with the old password.
    response = client.get(reset)
    assert response.status_code == 400 and "already been used" in page(response)
    assert "password was changed" in mails_to("forgetful@example.org")[-1].subject


def test_reset_request_answers_the_same_whether_or_not_the_account_exists(client):
    make_user("real@example.org")
    known = submit_form(client, "/account/forgot-password", {"email": "real@example.org"}, follow_redirects=True)
    unknown = submit_form(client, "/account/forgot-password", {"email": "ghost@example.org"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert "If an account exists for that address, we sent it a link" in page(known)
    assert "If an account exists for that address, we sent it a link" in page(unknown)
    assert len(mails_to("real@example.org")) == 1 and mails_to("ghost@example.org") == []


def test_expired_and_forged_reset_links_are_refused(app, client):
    user = make_user("slow@example.org")
    token = make_token("reset-password", {"uid": user.id, "st": account_stamp(user)})
    assert client.get(f"/account/reset/{token}x").status_code == 400
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.get(f"/account/reset/{token}")
    assert response.status_code == 400 and "expired" in page(response)
    confirm_token = make_token("confirm-email", {"uid": user.id, "st": account_stamp(user)})
    app.config["PASSWORD_RESET_MAX_AGE"] = 3600
    assert client.get(f"/account/reset/{confirm_token}").status_code == 400


def test_resetting_the_password_signs_out_every_other_session(app, client):
    make_user("shared@example.org")
    other = app.test_client()
    sign_in(other, "shared@example.org")
    assert other.get("/account/").status_code == 200
    submit_form(client, "/account/forgot-password", {"email": "shared@example.org"})
    submit_form(client, link_from_mail("shared@example.org", "/account/reset/"), {"password": NEW_PASSWORD})
    assert other.get("/account/").status_code == 302


# --- Changing email and password -------------------------------------------------------------


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, client):
    make_user("mover@example.org")
    other = app.test_client()
    sign_in(client, "mover@example.org")
    sign_in(other, "mover@example.org", remember="y")

    response = submit_form(
        client, "/account/password", {"current_password": "wrong password here", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400 and "current password is not right" in page(response)
    response = submit_form(client, "/account/password", {"current_password": PASSWORD, "new_password": "1234567890"})
    assert response.status_code == 400 and "most commonly used" in page(response)

    response = submit_form(client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200
    assert other.get("/account/").status_code == 302  # the remember cookie died too
    assert sign_in(app.test_client(), "mover@example.org", NEW_PASSWORD).status_code == 302


def test_changing_the_email_takes_effect_once_the_new_address_is_confirmed(app, client):
    make_user("old@example.org")
    other = app.test_client()
    sign_in(client, "old@example.org")
    sign_in(other, "old@example.org")

    response = submit_form(client, "/account/email", {"email": "new@example.org", "password": "not my password"})
    assert response.status_code == 400 and "password is not right" in page(response)
    response = submit_form(client, "/account/email", {"email": "New@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert user_by_email("old@example.org") is not None  # nothing changes yet

    client.get(link_from_mail("new@example.org", "/account/email/confirm/"))
    user = user_by_email("new@example.org")
    assert user is not None and user.is_confirmed and user_by_email("old@example.org") is None
    assert "changed to new@example.org" in mails_to("old@example.org")[-1].text_body
    assert client.get("/account/").status_code == 200  # this browser stays signed in
    assert other.get("/account/").status_code == 302  # others are signed out
    assert sign_in(app.test_client(), "new@example.org").status_code == 302


def test_email_change_links_work_once_and_expire(app, client):
    make_user("once@example.org")
    sign_in(client, "once@example.org")
    submit_form(client, "/account/email", {"email": "twice@example.org", "password": PASSWORD})
    link = link_from_mail("twice@example.org", "/account/email/confirm/")

    app.config["EMAIL_CHANGE_MAX_AGE"] = -1
    response = client.get(link)
    assert response.status_code == 400 and "expired" in page(response)
    app.config["EMAIL_CHANGE_MAX_AGE"] = 3600
    assert client.get(link).status_code == 302
    assert user_by_email("twice@example.org") is not None
    response = client.get(link)
    assert response.status_code == 400 and "already been used" in page(response)


@pytest.mark.parametrize("url", ["/account/signup", "/account/login"])
def test_signed_in_users_are_sent_on_from_sign_in_and_sign_up(client, provider_user, url):
    login(client, provider_user)
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"] == "/referrals/"


def test_email_change_to_an_address_taken_meanwhile_is_refused(client):
    make_user("first@example.org")
    sign_in(client, "first@example.org")
    submit_form(client, "/account/email", {"email": "second@example.org", "password": PASSWORD})
    make_user("second@example.org")
    response = client.get(link_from_mail("second@example.org", "/account/email/confirm/"))
    assert response.status_code == 400
    assert user_by_email("first@example.org") is not None


# --- API tokens -----------------------------------------------------------------------------


def test_user_creates_an_api_token_uses_it_and_revokes_it(client, practitioner_user):
    login(client, practitioner_user)
    response = submit_form(client, "/account/", {"name": "Practice software"}, post_url="/account/tokens")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">([^<]+)<', page(response)).group(1)
    row = db.session.execute(select(ApiToken)).scalar_one()
    assert row.token_hash != token and token.startswith(row.prefix)

    api = client.application.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json() == {"id": practitioner_user.id, "email": practitioner_user.email, "role": "practitioner"}

    listing = page(client.get("/account/"))
    assert "Practice software" in listing and row.prefix in listing and token not in listing
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).last_used_at is not None

    response = submit_form(client, "/account/", {}, post_url=f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_nobody_can_revoke_someone_elses_token(client, practitioner_user, other_practitioner_user):
    theirs, _plain = ApiToken.issue(other_practitioner_user, "theirs")
    db.session.commit()
    login(client, practitioner_user)
    response = submit_form(client, "/account/", {}, post_url=f"/account/tokens/{theirs.id}/revoke")
    assert response.status_code == 404
    response = submit_form(client, "/account/", {}, post_url="/account/tokens/999999/revoke")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, theirs.id).revoked_at is None


def test_api_me_needs_a_valid_token(client):
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer cst_not-a-token"})
    assert response.status_code == 401 and response.get_json() == {"error": "Please sign in (or send an API token)."}


def test_api_token_name_is_length_limited(client, practitioner_user):
    login(client, practitioner_user)
    response = submit_form(client, "/account/", {"name": "x" * 81}, post_url="/account/tokens")
    assert response.status_code == 400 and "Field cannot be longer than 80 characters." in page(response)


# --- Privacy ------------------------------------------------------------------------------


def test_practitioner_downloads_everything_held_about_their_account(client, practitioner_user, provider_user):
    profile = practitioner_user.practitioner
    ApiToken.issue(practitioner_user, "ehr")
    referral = Referral(
        referrer=provider_user, practitioner=profile, patient_name="P", reason="r", status="requested", consent=True
    )
    db.session.add(referral)
    db.session.commit()
    login(client, practitioner_user)

    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["user"]["email"] == practitioner_user.email
    assert "password_hash" not in data["user"] and "session_token" not in data["user"]
    assert data["practitioner"]["display_name"] == "Pat Practitioner"
    assert data["practitioner"]["locations"][0]["city"] == "Boulder"
    assert data["practitioner"]["conditions"] == ["tmj"]
    for key in ("trainings", "licences", "certifications", "enquiries"):
        assert key in data["practitioner"]
    assert data["api_tokens"][0]["name"] == "ehr" and "token_hash" not in data["api_tokens"][0]
    assert data["referrals_received"] == [
        {"id": referral.id, "status": "requested", "created_at": referral.created_at.isoformat()}
    ]
    assert data["referrals_sent"] == []
    assert PASSWORD not in response.get_data(as_text=True)


def test_practitioner_deletes_their_account_and_leaves_search_at_once(client, provider_user):
    user = make_user("leaving@example.org")
    profile = PractitionerFactory(user=user, email=user.email, display_name="Leah Leaving")
    referral = Referral(
        referrer=provider_user, practitioner=profile, patient_name="P", reason="r", consent=True, referrer_name="Dr"
    )
    db.session.add(referral)
    db.session.commit()
    profile_id, referral_id = profile.id, referral.id
    assert client.get(f"/practitioners/{profile_id}").status_code == 200
    sign_in(client, "leaving@example.org")

    response = submit_form(client, "/account/delete", {"password": "not my password"})
    assert response.status_code == 400 and user_by_email("leaving@example.org") is not None

    response = submit_form(client, "/account/delete", {"password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert user_by_email("leaving@example.org") is None
    assert db.session.get(Practitioner, profile_id) is None
    assert client.get(f"/practitioners/{profile_id}").status_code == 404
    assert client.get("/account/").status_code == 302
    kept = db.session.get(Referral, referral_id)
    assert kept is not None and kept.practitioner_id is None and kept.practitioner_name == "Leah Leaving"
    assert kept.referrer_id == provider_user.id


def test_deleting_a_practitioner_removes_their_evidence_files(app, client):
    import os

    from tests.factories import CertificationFactory

    user = make_user("evidence@example.org")
    profile = PractitionerFactory(user=user, email=user.email)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    path = os.path.join(app.config["UPLOAD_FOLDER"], "abc123.pdf")
    with open(path, "wb") as f:
        f.write(b"%PDF-1.4 test")
    CertificationFactory(practitioner=profile, evidence_path="abc123.pdf", evidence_name="cert.pdf")
    sign_in(client, "evidence@example.org")
    assert submit_form(client, "/account/delete", {"password": PASSWORD}).status_code == 302
    assert not os.path.exists(path)


def test_provider_deletes_their_account_and_referrals_keep_their_name(client, practitioner_user):
    provider = make_user("dr.gone@example.org", role=Role.PROVIDER, name="Dr. Gone")
    referral = Referral(referrer=provider, practitioner=practitioner_user.practitioner, patient_name="P", reason="r")
    db.session.add(referral)
    db.session.commit()
    referral_id = referral.id
    sign_in(client, "dr.gone@example.org")
    assert submit_form(client, "/account/delete", {"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    kept = db.session.get(Referral, referral_id)
    assert kept.referrer_id is None and kept.referrer_name == "Dr. Gone"


# --- Who may do what ----------------------------------------------------------------------

PRIVATE_PAGES = ["/account/", "/account/email", "/account/password", "/account/delete", "/account/data.json"]
PRIVATE_POSTS = [
    "/account/email",
    "/account/password",
    "/account/delete",
    "/account/tokens",
    "/account/tokens/1/revoke",
    "/account/confirm/resend",
]


@pytest.mark.parametrize("url", PRIVATE_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/login?next=")


@pytest.mark.parametrize("url", PRIVATE_POSTS)
def test_anonymous_posts_change_nothing_and_ask_to_sign_in(client, url):
    token = csrf_token_from(page(client.get("/account/login")))
    response = client.post(url, data={"csrf_token": token, "password": PASSWORD, "name": "x"})
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert db.session.execute(select(ApiToken)).first() is None


@pytest.mark.parametrize("role_fixture", ["practitioner_user", "provider_user", "admin_user"])
@pytest.mark.parametrize("url", PRIVATE_PAGES)
def test_every_role_reaches_its_own_account_pages(request, client, role_fixture, url):
    user = request.getfixturevalue(role_fixture)
    login(client, user)
    response = client.get(url)
    assert response.status_code == 200
    assert user.email in page(response) or url in ("/account/password", "/account/delete")


def _signed_in(client, user):
    login(client, user)
    return client


CSRF_FORMS = [
    ("/account/signup", False),
    ("/account/login", False),
    ("/account/forgot-password", False),
    ("RESET", False),
    ("/account/logout", True),
    ("/account/confirm/resend", True),
    ("/account/email", True),
    ("/account/password", True),
    ("/account/tokens", True),
    ("TOKEN", True),
    ("/account/delete", True),
]


@pytest.mark.parametrize("url, signed_in", CSRF_FORMS)
def test_every_account_form_refuses_a_post_without_its_csrf_token(client, practitioner_user, url, signed_in):
    practitioner_user.password_hash = hash_password(PASSWORD)
    token, _plain = ApiToken.issue(practitioner_user, "t")
    db.session.commit()
    if url == "RESET":
        url = "/account/reset/" + make_token(
            "reset-password", {"uid": practitioner_user.id, "st": account_stamp(practitioner_user)}
        )
    elif url == "TOKEN":
        url = f"/account/tokens/{token.id}/revoke"
    if signed_in:
        login(client, practitioner_user)
    data = {
        "email": practitioner_user.email,
        "password": PASSWORD,
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "role": "practitioner",
        "name": "x",
    }
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "The form expired or was sent from elsewhere" in page(response)
    db.session.expire_all()
    assert db.session.get(User, practitioner_user.id) is not None
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert db.session.execute(select(ApiToken)).scalars().all() == [db.session.get(ApiToken, token.id)]


def test_confirmed_required_helper_lets_confirmed_users_through(app, client):
    from directory.auth import confirmed_required

    @confirmed_required
    def view():
        return "ok"

    app.add_url_rule("/_test/confirmed", "confirmed_test", view)
    unconfirmed = make_user("u@example.org", confirmed_at=None)
    confirmed = make_user("c@example.org")
    assert client.get("/_test/confirmed").status_code == 302
    login(client, unconfirmed)
    assert client.get("/_test/confirmed").status_code == 403
    login(client, confirmed)
    assert client.get("/_test/confirmed").status_code == 200


# --- Operators' CLI -----------------------------------------------------------------------


def test_create_user_makes_a_confirmed_practitioner_with_their_imported_profile(runner):
    profile = PractitionerFactory(email="cli.therapist@example.org")
    result = runner.invoke(
        args=["create-user", "CLI.Therapist@example.org", "--role", "practitioner", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    user = user_by_email("cli.therapist@example.org")
    assert user.is_confirmed and user.role == Role.PRACTITIONER
    assert db.session.get(Practitioner, profile.id).user_id == user.id


def test_create_user_asks_for_the_password_twice_when_not_given(runner, client):
    result = runner.invoke(
        args=["create-user", "admin2@example.org", "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert user_by_email("admin2@example.org").is_admin
    response = sign_in(client, "admin2@example.org")
    assert response.headers["Location"] == "/admin/"


def test_create_user_makes_providers_verified_from_the_start(runner):
    result = runner.invoke(args=["create-user", "dr.cli@example.org", "--role", "provider", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    user = user_by_email("dr.cli@example.org")
    assert user.provider_status == ProviderStatus.VERIFIED and user.can_refer


@pytest.mark.parametrize(
    "args, message",
    [
        (["taken@example.org", "--role", "admin", "--password", PASSWORD], "already exists"),
        (["x@example.org", "--role", "patient", "--password", PASSWORD], "patient"),
        (["x@example.org", "--role", "admin", "--password", "password"], "at least 10 characters"),
        (["x@example.org", "--role", "admin", "--password", "1234567890"], "most commonly used"),
        (["not-an-email", "--role", "admin", "--password", PASSWORD], "not an email address"),
    ],
)
def test_create_user_refuses_bad_input_with_a_message(runner, args, message):
    make_user("taken@example.org")
    result = runner.invoke(args=["create-user", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert user_by_email("x@example.org") is None


def test_create_api_token_prints_the_token_alone_on_its_last_line(runner, client, provider_user):
    result = runner.invoke(args=["create-api-token", provider_user.email, "--name", "EHR"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"cst_[A-Za-z0-9_-]{40,}", token)
    row = db.session.execute(select(ApiToken)).scalar_one()
    assert row.name == "EHR" and row.token_hash != token
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["role"] == "provider"


def test_create_api_token_for_an_unknown_email_fails(runner):
    result = runner.invoke(args=["create-api-token", "nobody@example.org"])
    assert result.exit_code != 0 and "no account" in result.output
