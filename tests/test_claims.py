"""Claims review: screening, the admin's phrase list, and held texts approved or rejected."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from directory.claims import highlight_flags, service
from directory.claims.defaults import DEFAULT_PHRASES
from directory.claims.screening import find_phrase, screen, tokens
from directory.extensions import db
from directory.models import ClaimPhrase, HeldChange, ReviewStatus
from tests.admin_support import admin_client, audit_entries, fresh, outbox  # noqa: F401
from tests.conftest import csrf_token_from, login, submit_form
from tests.factories import PractitionerFactory


def _flagged(text: str) -> list[str]:
    return [flag.phrase for flag in screen({"bio": text}, DEFAULT_PHRASES)]


# --- Screening -----------------------------------------------------------------------------


@pytest.mark.parametrize(("phrase", "_explanation"), DEFAULT_PHRASES)
def test_each_default_phrase_is_flagged_in_a_sentence(phrase, _explanation):
    assert phrase in _flagged(f"Our approach: {phrase.upper()} for everyone.")


def test_the_issue_s_bio_is_flagged_twice():
    assert _flagged("CST cures migraines and fibromyalgia in 3 sessions — guaranteed!") == ["cure", "guarantee"]


@pytest.mark.parametrize(
    "text",
    [
        "c-u-r-e-s",
        "C U R E S",
        "c.u.r.e.s migraines",
        "CURED",
        "Cures!",
        "cu\u200bres",  # a zero-width space inside the word
        "ｃｕｒｅｓ",  # full-width letters
        "cürés",
    ],
)
def test_spelling_tricks_do_not_hide_a_cure_claim(text):
    assert "cure" in _flagged(text)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("100 % success", "100%"),
        ("100 percent of clients", "100%"),
        ("Clinically-Proven!", "clinically proven"),
        ("no need for medications", "no need for medication"),
        ("MIRACLES happen", "miracle"),
        ("We GUARANTEE results", "guarantee"),
    ],
)
def test_punctuation_case_and_plurals_do_not_hide_a_phrase(text, phrase):
    assert phrase in _flagged(text)


@pytest.mark.parametrize(
    "text",
    [
        "Secured parking behind the building.",
        "Curious about CST? Ask me.",
        "A healing, quiet space; I work alongside your doctor.",
        "Accurate notes are kept.",
        "Procured from the local market.",
        "I treat adults and children.",
        "Sessions last 60 minutes; 100 minutes for the first.",
        "Securely stored records.",
        "",
    ],
)
def test_ordinary_words_raise_no_flag(text):
    assert _flagged(text) == []


def test_a_flag_points_at_the_words_as_written():
    text = "It c-u-r-e-s, honestly."
    [(start, end)] = find_phrase(text, "cure")
    assert text[start:end] == "c-u-r-e-s"
    assert (
        str(highlight_flags(text, screen({"bio": text}, DEFAULT_PHRASES)))
        == 'It <mark class="claim-flag">c-u-r-e-s</mark>, honestly.'
    )


def test_highlighting_escapes_the_text():
    text = "<b>cures</b>"
    marked = str(highlight_flags(text, screen({"bio": text}, DEFAULT_PHRASES)))
    assert "<b>" not in marked and '<mark class="claim-flag">cures</mark>' in marked


def test_two_letter_words_are_not_joined_into_a_phrase():
    assert [t.word for t in tokens("a b")] == ["a", "b"]


def test_the_migration_seeded_the_default_list(app):
    stored = dict(db.session.execute(sa.select(ClaimPhrase.phrase, ClaimPhrase.explanation)).all())
    assert stored == dict(DEFAULT_PHRASES)


# --- Held texts ----------------------------------------------------------------------------


def test_a_clean_text_goes_live_and_a_flagged_one_is_held(app):
    practitioner = PractitionerFactory(bio="Gentle, light-touch sessions.")
    flags = service.submit_texts(
        practitioner, {"practice_name": "Calm Hands", "bio": "CST cures migraines, guaranteed."}, None
    )
    db.session.commit()
    assert sorted(f.phrase for f in flags) == ["cure", "guarantee"]
    practitioner = fresh(practitioner)
    assert practitioner.practice_name == "Calm Hands"
    assert practitioner.bio == "Gentle, light-touch sessions."
    change = service.pending_change(practitioner)
    assert change.values == {"bio": "CST cures migraines, guaranteed."}
    assert service.review_summary(practitioner)["status"] == "pending"
    # Rephrased: screened again at once, live, and the held change is gone.
    assert service.submit_texts(practitioner, {"bio": "Gentle sessions for people living with migraines."}, None) == []
    db.session.commit()
    practitioner = fresh(practitioner)
    assert practitioner.bio == "Gentle sessions for people living with migraines."
    assert service.pending_change(practitioner) is None
    assert service.review_summary(practitioner)["status"] == "approved"


def test_a_held_location_label_names_only_the_practitioner_s_own_records(app):
    practitioner = PractitionerFactory()
    other = PractitionerFactory()
    mine, theirs = practitioner.locations[0], other.locations[0]
    service.submit_texts(practitioner, {f"location:{mine.id}:label": "Miracle room"}, None)
    db.session.commit()
    change = service.pending_change(practitioner)
    assert list(change.values) == [f"location:{mine.id}:label"]
    # A key naming another practitioner's location is never written.
    change.values = {f"location:{theirs.id}:label": "Hijacked"}
    db.session.commit()
    assert service.approve(change, None) == [f"location:{theirs.id}:label"]
    db.session.commit()
    assert fresh(theirs).label != "Hijacked"


def test_an_unpublished_profile_with_held_text_waits_for_the_review(app):
    practitioner = PractitionerFactory(published=False)
    assert not service.blocks_publishing(practitioner)
    service.submit_texts(practitioner, {"bio": "Miracle results."}, None)
    assert service.blocks_publishing(practitioner)


# --- The admin's pages ---------------------------------------------------------------------


def _hold(practitioner, text="CST cures migraines, guaranteed.") -> HeldChange:
    service.submit_texts(practitioner, {"bio": text}, None)
    db.session.commit()
    return service.pending_change(practitioner)


def test_only_admins_reach_the_claims_pages(client, practitioner_user, provider_user):
    practitioner = PractitionerFactory()
    change = _hold(practitioner)
    phrase = db.session.execute(sa.select(ClaimPhrase)).scalars().first()
    urls = ["/admin/claims", f"/admin/claims/{phrase.id}", "/admin/reviews", f"/admin/reviews/{change.id}"]
    posts = [
        "/admin/claims",
        f"/admin/claims/{phrase.id}/delete",
        f"/admin/reviews/{change.id}/approve",
        f"/admin/reviews/{change.id}/reject",
    ]
    for user in (None, practitioner_user, provider_user):
        if user is not None:
            login(client, user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        for url in posts:
            assert client.post(url, data={"reason": "x"}).status_code == 404, (user, url)
    assert fresh(change).status == ReviewStatus.PENDING


def test_admin_adds_edits_and_removes_a_phrase(admin_client):  # noqa: F811
    response = submit_form(
        admin_client,
        "/admin/claims",
        {"phrase": "Instant Relief", "explanation": "No therapy promises instant relief."},
    )
    assert response.status_code == 303
    added = db.session.execute(sa.select(ClaimPhrase).filter_by(phrase="Instant Relief")).scalar_one()
    added_id = added.id
    practitioner = PractitionerFactory()
    assert [f.phrase for f in service.submit_texts(practitioner, {"bio": "instant-relief!"}, None)] == [
        "Instant Relief"
    ]
    db.session.rollback()
    # The same words again are refused with a message; a phrase without words too.
    response = submit_form(admin_client, "/admin/claims", {"phrase": "instant relief", "explanation": "x"})
    assert response.status_code == 400 and "already on the list" in response.get_data(as_text=True)
    response = submit_form(admin_client, "/admin/claims", {"phrase": "!!!", "explanation": "x"})
    assert response.status_code == 400 and "at least one word" in response.get_data(as_text=True)
    response = submit_form(
        admin_client, f"/admin/claims/{added.id}", {"phrase": "instant relief", "explanation": "Changed."}
    )
    assert response.status_code == 303 and fresh(added).explanation == "Changed."
    page = admin_client.get("/admin/claims").get_data(as_text=True)
    response = admin_client.post(f"/admin/claims/{added_id}/delete", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.execute(sa.select(ClaimPhrase).filter_by(id=added_id)).first() is None
    actions = [e.action for e in audit_entries() if e.action.startswith("claims.phrase")]
    assert actions == ["claims.phrase_added", "claims.phrase_changed", "claims.phrase_removed"]


def test_admin_approves_held_text_and_the_practitioner_is_told(admin_client):  # noqa: F811
    practitioner = PractitionerFactory(bio="Old text.")
    change = _hold(practitioner)
    listing = admin_client.get("/admin/reviews").get_data(as_text=True)
    assert practitioner.display_name in listing and "cure, guarantee" in listing
    page = admin_client.get(f"/admin/reviews/{change.id}").get_data(as_text=True)
    assert '<mark class="claim-flag">cures</mark>' in page and "Old text." in page
    response = admin_client.post(f"/admin/reviews/{change.id}/approve", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 303
    assert fresh(practitioner).bio == "CST cures migraines, guaranteed."
    assert fresh(change).status == ReviewStatus.APPROVED
    [mail] = outbox(practitioner.email)
    assert mail.subject == "Your profile text was approved"
    assert "now published" not in mail.text_body  # it was public already: only its text changes
    assert [e.action for e in audit_entries() if e.action.startswith("claims.")] == ["claims.held", "claims.approved"]
    # A second decision is refused.
    response = admin_client.post(
        f"/admin/reviews/{change.id}/reject", data={"csrf_token": csrf_token_from(page), "reason": "x"}
    )
    assert response.status_code == 303 and fresh(change).status == ReviewStatus.APPROVED


def test_admin_rejects_held_text_with_a_reason(admin_client):  # noqa: F811
    practitioner = PractitionerFactory(bio="Old text.")
    change = _hold(practitioner)
    page = admin_client.get(f"/admin/reviews/{change.id}").get_data(as_text=True)
    response = admin_client.post(
        f"/admin/reviews/{change.id}/reject", data={"csrf_token": csrf_token_from(page), "reason": ""}
    )
    assert response.status_code == 400 and fresh(change).status == ReviewStatus.PENDING
    response = admin_client.post(
        f"/admin/reviews/{change.id}/reject",
        data={"csrf_token": csrf_token_from(page), "reason": "Please do not promise cures."},
    )
    assert response.status_code == 303
    assert fresh(practitioner).bio == "Old text."
    change = fresh(change)
    assert change.status == ReviewStatus.REJECTED and change.reason == "Please do not promise cures."
    [mail] = outbox(practitioner.email)
    assert "Please do not promise cures." in mail.text_body
    summary = service.review_summary(fresh(practitioner))
    assert summary["status"] == "rejected" and summary["reason"] == "Please do not promise cures."


# --- The practitioner's editor -------------------------------------------------------------

BASICS = {
    "display_name": "Pat Practitioner",
    "practice_name": "Calm Hands",
    "bio": "Gentle sessions.",
    "phone": "",
    "website": "",
    "session_minutes": "60",
    "fee_min": "",
    "fee_max": "",
    "currency": "USD",
    "languages": "English",
}


def test_the_editor_holds_a_flagged_bio_shows_why_and_keeps_the_public_text(client, practitioner_user):
    login(client, practitioner_user)
    submit_form(client, "/dashboard/profile", BASICS)
    practitioner_id = practitioner_user.practitioner.id
    response = submit_form(
        client, "/dashboard/profile", {**BASICS, "bio": "CST cures migraines — guaranteed!", "phone": "303 555 0100"}
    )
    assert response.status_code == 302
    practitioner = fresh(practitioner_user.practitioner)
    assert practitioner.bio == "Gentle sessions." and practitioner.phone == "303 555 0100"
    assert "CST cures migraines" not in client.get(f"/practitioners/{practitioner_id}").get_data(as_text=True)
    page = client.get("/dashboard/profile").get_data(as_text=True)
    # The held text is in the form to rephrase, marked, with the explanation.
    assert '<mark class="claim-flag">cures</mark>' in page and "CAP Code" in page
    assert "CST cures migraines — guaranteed!</textarea>" in page
    dashboard = client.get("/dashboard/").get_data(as_text=True)
    assert "waiting for review" in dashboard
    # Asking for a review marks it for the admins.
    token = csrf_token_from(dashboard)
    assert client.post("/dashboard/review/request", data={"csrf_token": token}).status_code == 302
    assert service.pending_change(practitioner).review_requested
    # Rephrased: live at once, nothing held.
    submit_form(client, "/dashboard/profile", {**BASICS, "bio": "Gentle sessions for people living with migraines."})
    assert fresh(practitioner).bio == "Gentle sessions for people living with migraines."
    assert service.pending_change(fresh(practitioner)) is None


def test_a_draft_with_held_text_cannot_be_published(client, practitioner_user):
    practitioner = practitioner_user.practitioner
    practitioner.published = False
    db.session.commit()
    login(client, practitioner_user)
    submit_form(client, "/dashboard/profile", {**BASICS, "practice_name": "Miracle Clinic"})
    token = csrf_token_from(client.get("/dashboard/").get_data(as_text=True))
    response = client.post("/dashboard/publish", data={"csrf_token": token}, follow_redirects=True)
    assert "held for review" in response.get_data(as_text=True)
    assert not fresh(practitioner).published


def test_location_names_and_training_descriptions_are_screened_too(client, practitioner_user):
    login(client, practitioner_user)
    location = practitioner_user.practitioner.locations[0]
    page = client.get(f"/dashboard/locations/{location.id}").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token_from(page),
        "label": "The Miracle Room",
        "address": location.address,
        "city": location.city,
        "region": location.region,
        "postal_code": location.postal_code,
        "country": location.country,
        "latitude": str(location.latitude),
        "longitude": str(location.longitude),
        "phone": "",
        "opening_hours": "Mon 9-17",
        "hours_note": "",
    }
    client.post(f"/dashboard/locations/{location.id}", data=form)
    assert fresh(location).label != "The Miracle Room" and fresh(location).opening_hours == "Mon 09:00-17:00"
    page = client.get("/dashboard/training/new").get_data(as_text=True)
    client.post(
        "/dashboard/training/new",
        data={"csrf_token": csrf_token_from(page), "course": "Clinically proven CST I", "provider": "", "hours": "24"},
    )
    change = service.pending_change(fresh(practitioner_user.practitioner))
    keys = sorted(change.values)
    assert keys[0] == f"location:{location.id}:label" and keys[1].startswith("training:")
    assert "Clinically proven" not in client.get(f"/practitioners/{location.practitioner_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "text",
    [
        "CST does not replace medical care.",
        "It doesn't cure anything; it is a gentle, hands-on approach.",
        "I never guarantee results.",
        "There is no miracle here.",
    ],
)
def test_a_denial_is_not_a_claim(text):
    assert _flagged(text) == []


@pytest.mark.parametrize(
    "text", ["No. 1 cure for migraines", "No 1 miracle therapy", "Not only relaxing: it cures migraines"]
)
def test_a_claim_near_a_negation_is_still_a_claim(text):
    assert _flagged(text) != []
