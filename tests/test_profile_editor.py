"""A practitioner keeps their own profile true: dashboard, every editor, publication, evidence."""

from __future__ import annotations

import io
import os
from datetime import date

import pytest

from directory.extensions import db
from directory.models import (
    Enquiry,
    PracticeLocation,
    Practitioner,
    ProfessionalLicense,
    Role,
    Training,
    VerificationStatus,
)
from directory.practitioners.evidence import MAX_EVIDENCE_BYTES
from tests.conftest import login, submit_form
from tests.factories import CertificationFactory, UserFactory, body

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def _profile(user) -> Practitioner:
    db.session.expire_all()
    return db.session.execute(db.select(Practitioner).filter_by(user_id=user.id)).scalar_one()


def _certification_data(**overrides) -> dict:
    data = {
        "body": str(body("upledger").id),
        "credential": "CST-T",
        "credential_number": "U-1234",
        "issued_on": "2019-06-01",
        "expires_on": "",
    }
    data.update(overrides)
    return data


LOCATION = {
    "label": "Main practice",
    "address": "1800 Broadway",
    "city": "Boulder",
    "region": "CO",
    "postal_code": "80302",
    "country": "US",
    "latitude": "",
    "longitude": "",
}


# --- The whole story ----------------------------------------------------------------------


def test_practitioner_creates_edits_publishes_appears_in_search_and_receives_an_enquiry(app, client):
    user = UserFactory(role=Role.PRACTITIONER, email="new.practitioner@example.org", name="Nora New")
    login(client, user)

    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Create your profile" in page
    response = submit_form(client, "/dashboard/", {}, post_url="/dashboard/profile/create")
    assert response.status_code == 302
    profile = _profile(user)
    assert profile.email == user.email and not profile.published

    response = submit_form(
        client,
        "/dashboard/profile",
        {
            "display_name": "Nora New, LMT",
            "practice_name": "Gentle Hands Boulder",
            "bio": "I have practised craniosacral therapy since 2015.\n<b>Plain text</b> only.",
            "phone": "+1 303 555 0100",
            "website": "https://gentle-hands.example.org",
            "show_email": "y",
            "session_minutes": "60",
            "fee_min": "90",
            "fee_max": "120",
            "currency": "usd",
            "languages": "English,  Spanish ,",
            "wheelchair_accessible": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = submit_form(client, "/dashboard/profile/conditions", {"conditions": ["tmj", "migraine-headache"]})
    assert response.status_code == 302
    response = submit_form(client, "/dashboard/locations/new", LOCATION)
    assert response.status_code == 302
    found = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We placed this location at Boulder" in found and 'id="location-map"' in found
    response = submit_form(
        client,
        "/dashboard/training/new",
        {
            "course": "CranioSacral Therapy 1",
            "provider": "Upledger Institute",
            "hours": "24",
            "completed_on": "2015-03-01",
        },
    )
    assert response.status_code == 302
    response = submit_form(
        client,
        "/dashboard/licences/new",
        {"profession": "LMT", "jurisdiction": "Colorado", "number": "MT-998877", "expires_on": ""},
    )
    assert response.status_code == 302
    response = submit_form(
        client,
        "/dashboard/certifications/new",
        {**_certification_data(), "evidence": (io.BytesIO(PNG), "certificate.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    response = submit_form(client, "/dashboard/", {}, post_url="/dashboard/publish")
    assert response.status_code == 302

    profile = _profile(user)
    assert profile.published and profile.display_name == "Nora New, LMT"
    assert profile.currency == "USD" and profile.languages == "English, Spanish" and profile.session_minutes == 60
    assert [c.slug for c in profile.conditions] == ["migraine-headache", "tmj"]
    [location] = profile.locations
    assert abs(location.latitude - 40.0) < 0.1 and abs(location.longitude + 105.27) < 0.1
    assert location.condition_bits == profile.condition_bits
    assert profile.trainings[0].hours == 24 and profile.licenses[0].number == "MT-998877"
    [cert] = profile.certifications
    assert cert.status == VerificationStatus.PENDING and cert.evidence_mimetype == "image/png"

    api = client.get("/api/v1/practitioners?lat=40.02&lon=-105.27&radius_km=10&condition=tmj").get_json()
    assert profile.id in [hit["id"] for hit in api["results"]]
    search = client.get("/search?near=80302&radius=10&unit=mi&condition=tmj").get_data(as_text=True)
    assert "Nora New, LMT" in search
    public = client.get(f"/practitioners/{profile.id}").get_data(as_text=True)
    assert "Gentle Hands Boulder" in public and "&lt;b&gt;Plain text&lt;/b&gt;" in public
    assert "CST-T" in public and "not yet verified" in public.lower()

    patient = app.test_client()
    response = submit_form(
        patient,
        f"/practitioners/{profile.id}",
        {
            "name": "Paula Patient",
            "email": "paula@example.com",
            "phone": "",
            "message": "Do you see patients with jaw pain on Saturdays?",
            "consent": "y",
            "website": "",
        },
        post_url=f"/practitioners/{profile.id}/enquiry",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    inbox = client.get("/dashboard/").get_data(as_text=True)
    assert "Paula Patient" in inbox and "jaw pain on Saturdays" in inbox and "1 new" in inbox


# --- Dashboard ----------------------------------------------------------------------------


def test_dashboard_shows_status_and_the_one_click_accepting_toggle(client, practitioner_user):
    login(client, practitioner_user)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Published" in page and "Stop accepting new patients" in page
    submit_form(client, "/dashboard/", {}, post_url="/dashboard/accepting")
    assert _profile(practitioner_user).accepting_new_patients is False
    assert "Start accepting new patients" in client.get("/dashboard/").get_data(as_text=True)
    submit_form(client, "/dashboard/", {}, post_url="/dashboard/accepting")
    assert _profile(practitioner_user).accepting_new_patients is True


def test_suspended_profile_shows_the_reason(client, practitioner_user):
    profile = _profile(practitioner_user)
    profile.suspended, profile.suspension_reason = True, "Certificate under review"
    db.session.commit()
    login(client, practitioner_user)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Suspended" in page and "Certificate under review" in page


def test_unpublish_takes_the_profile_off_the_site(client, practitioner_user):
    profile_id = _profile(practitioner_user).id
    login(client, practitioner_user)
    submit_form(client, "/dashboard/", {}, post_url="/dashboard/unpublish")
    assert _profile(practitioner_user).published is False
    assert client.get(f"/practitioners/{profile_id}").status_code == 404


def test_draft_without_a_location_cannot_be_published(client):
    user = UserFactory(role=Role.PRACTITIONER)
    login(client, user)
    submit_form(client, "/dashboard/", {}, post_url="/dashboard/profile/create")
    response = submit_form(client, "/dashboard/", {}, post_url="/dashboard/publish", follow_redirects=True)
    assert "Add at least one practice location" in response.get_data(as_text=True)
    assert _profile(user).published is False


def test_unconfirmed_practitioner_cannot_publish(client):
    user = UserFactory(role=Role.PRACTITIONER, confirmed_at=None)
    login(client, user)
    submit_form(client, "/dashboard/", {}, post_url="/dashboard/profile/create")
    submit_form(client, "/dashboard/locations/new", LOCATION)
    response = submit_form(client, "/dashboard/", {}, post_url="/dashboard/publish", follow_redirects=True)
    assert "Confirm your email address" in response.get_data(as_text=True)
    assert _profile(user).published is False


def test_profile_with_my_email_is_not_duplicated_before_confirmation(client):
    from tests.factories import PractitionerFactory

    PractitionerFactory(email="imported@example.org", user=None)
    user = UserFactory(role=Role.PRACTITIONER, email="imported@example.org", confirmed_at=None)
    login(client, user)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Confirm your email address" in page and "Create your profile" not in page
    assert db.session.execute(db.select(db.func.count(Practitioner.id))).scalar_one() == 1


def test_confirmed_practitioner_takes_over_a_profile_imported_with_their_email(client):
    from tests.factories import PractitionerFactory

    imported = PractitionerFactory(email="later@example.org", user=None, display_name="Imported Later")
    user = UserFactory(role=Role.PRACTITIONER, email="later@example.org")
    login(client, user)
    page = client.get("/dashboard/").get_data(as_text=True)
    assert "Imported Later" in page and "Create your profile" not in page
    assert _profile(user).id == imported.id


def test_dashboard_sends_providers_and_admins_to_their_own_areas(client, provider_user, admin_user):
    login(client, provider_user)
    assert client.get("/dashboard/").headers["Location"].endswith("/referrals/")
    login(client, admin_user)
    assert client.get("/dashboard/").headers["Location"].endswith("/admin/")


# --- Basics validation --------------------------------------------------------------------

BASICS = {
    "display_name": "Pat Practitioner",
    "practice_name": "",
    "bio": "",
    "phone": "",
    "website": "",
    "session_minutes": "60",
    "fee_min": "",
    "fee_max": "",
    "currency": "USD",
    "languages": "English",
}


# 48 language codes: 190 characters as typed, 416 once stored by their English names.
LANGUAGES_TOO_LONG = (
    "en, es, fr, de, it, pt, nl, sv, no, da, fi, pl, cs, sk, hu, ro, bg, el, tr, ru, uk, ar, he, fa, "
    "hi, bn, ur, ta, te, ml, kn, mr, gu, pa, zh, ja, ko, vi, th, id, ms, tl, sw, am, yo, ig, zu, xh"
)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "", "Enter the name to show"),
        ("display_name", "x" * 121, "at most 120 characters"),
        ("website", "javascript:alert(1)", "https://"),
        ("website", "ftp://files.example.org", "https://"),
        ("session_minutes", "10", "from 15 to 240"),
        ("session_minutes", "300", "from 15 to 240"),
        ("session_minutes", "an hour", "whole number of minutes"),
        ("currency", "US", "ISO 4217"),
        ("currency", "US1", "ISO 4217"),
        ("phone", "call me maybe", "digits"),
        ("bio", "x" * 5001, "5000"),
        ("fee_min", "-5", "from 0 to 100000"),
        ("languages", LANGUAGES_TOO_LONG, "at most 300 characters"),
        ("languages", "English, Gibberish", "We do not recognise &#39;Gibberish&#39; as a language"),
        ("gender", "robot", "Choose female, male or non-binary"),
        ("wheelchair_accessible", "maybe", "Answer yes or no"),
        ("fee_max", "50", "lower than the starting fee"),
    ],
)
def test_basics_editor_rejects_bad_input_with_a_field_error(client, practitioner_user, field, value, message):
    login(client, practitioner_user)
    data = {**BASICS, "fee_min": "80", field: value}
    response = submit_form(client, "/dashboard/profile", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in html and message in html
    assert _profile(practitioner_user).display_name == "Pat Practitioner"


def test_languages_in_any_spelling_are_saved_by_their_english_names(client, practitioner_user):
    login(client, practitioner_user)
    page = client.get("/dashboard/profile").get_data(as_text=True)
    assert "Any spelling works" in page and "Español" in page
    response = submit_form(client, "/dashboard/profile", {**BASICS, "languages": "Español, english; fr"})
    assert response.status_code == 302
    assert _profile(practitioner_user).languages == "Spanish, English, French"


def test_a_word_that_is_not_a_language_is_refused_and_the_typed_text_kept(client, practitioner_user):
    login(client, practitioner_user)
    before = _profile(practitioner_user).languages
    response = submit_form(client, "/dashboard/profile", {**BASICS, "languages": "English, Elvish"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="languages-error"' in html and "We do not recognise &#39;Elvish&#39; as a language" in html
    assert 'value="English, Elvish"' in html
    assert _profile(practitioner_user).languages == before


@pytest.mark.parametrize(
    ("chosen", "stored"), [("female", "female"), ("male", "male"), ("nonbinary", "nonbinary"), ("", None)]
)
def test_gender_is_optional_and_saved_as_chosen(client, practitioner_user, chosen, stored):
    profile = _profile(practitioner_user)
    profile.gender = "male" if chosen != "male" else "female"
    db.session.commit()
    login(client, practitioner_user)
    response = submit_form(client, "/dashboard/profile", {**BASICS, "gender": chosen})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _profile(practitioner_user).gender == stored


def test_the_gender_field_says_it_is_optional_and_when_it_is_used(client, practitioner_user):
    profile = _profile(practitioner_user)
    profile.gender = "nonbinary"
    db.session.commit()
    login(client, practitioner_user)
    page = client.get("/dashboard/profile").get_data(as_text=True)
    assert '<select aria-describedby="gender-help" class="form-select" id="gender" name="gender">' in page
    assert '<option value="">Prefer not to say</option>' in page
    assert '<option selected value="nonbinary">Non-binary</option>' in page
    assert "Optional." in page and "filters the search by practitioner gender" in page


def test_conditions_editor_rejects_an_unknown_condition(client, practitioner_user):
    login(client, practitioner_user)
    response = submit_form(client, "/dashboard/profile/conditions", {"conditions": ["tmj", "cures-everything"]})
    assert response.status_code == 400
    assert [c.slug for c in _profile(practitioner_user).conditions] == ["tmj"]


# --- Locations ----------------------------------------------------------------------------


def test_address_that_cannot_be_found_gives_a_field_error_and_stores_nothing(client, practitioner_user):
    login(client, practitioner_user)
    data = {**LOCATION, "address": "1 Nowhere Lane", "city": "Xqzzyville", "region": "", "postal_code": ""}
    response = submit_form(client, "/dashboard/locations/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="address-error"' in html and "could not find this address" in html
    assert len(_profile(practitioner_user).locations) == 1


def test_coordinates_can_be_corrected_by_hand_and_a_new_address_is_geocoded_again(client, practitioner_user):
    login(client, practitioner_user)
    response = submit_form(client, "/dashboard/locations/new", LOCATION)
    location_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    url = f"/dashboard/locations/{location_id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="latitude"' in page and "Where we placed this location" in page

    response = submit_form(client, url, {**LOCATION, "latitude": "40.017000", "longitude": "-105.281000"})
    assert response.status_code == 302
    location = db.session.get(PracticeLocation, location_id)
    db.session.refresh(location)
    assert (location.latitude, location.longitude) == (40.017, -105.281)

    # Saving again with the same coordinates keeps them (no silent re-geocoding).
    submit_form(client, url, {**LOCATION, "label": "Renamed", "latitude": "40.017000", "longitude": "-105.281000"})
    db.session.refresh(location)
    assert (location.latitude, location.longitude, location.label) == (40.017, -105.281, "Renamed")

    # A new address, coordinates left as they were: found again.
    moved = {
        **LOCATION,
        "address": "",
        "city": "Denver",
        "postal_code": "",
        "latitude": "40.017000",
        "longitude": "-105.281000",
    }
    submit_form(client, url, moved)
    db.session.refresh(location)
    assert abs(location.latitude - 39.74) < 0.1 and location.city == "Denver"


def test_location_editor_validates_coordinates(client, practitioner_user):
    login(client, practitioner_user)
    response = submit_form(client, "/dashboard/locations/new", {**LOCATION, "latitude": "95", "longitude": "10"})
    assert response.status_code == 400 and "Between -90 and 90" in response.get_data(as_text=True)
    response = submit_form(client, "/dashboard/locations/new", {**LOCATION, "latitude": "40", "longitude": ""})
    assert response.status_code == 400 and "both latitude and longitude" in response.get_data(as_text=True)


def test_a_location_keeps_its_own_phone_opening_hours_and_note(client, practitioner_user):
    login(client, practitioner_user)
    location_id = _profile(practitioner_user).locations[0].id
    url = f"/dashboard/locations/{location_id}"
    page = client.get(url).get_data(as_text=True)
    assert "Leave blank to use your main phone." in page and "Mon-Fri 9-17; Sat 10-13" in page
    details = {
        "phone": "+1 303 555 0177",
        "opening_hours": "Mon–Fri 9:00–17:30; Sat 10-13",
        "hours_note": "  Evenings   by appointment ",
    }
    response = submit_form(client, url, {**LOCATION, **details})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = db.session.get(PracticeLocation, location_id)
    db.session.refresh(location)
    assert location.phone == "+1 303 555 0177" and location.hours_note == "Evenings by appointment"
    weekdays = [f"{day} 09:00-17:30" for day in ("Mon", "Tue", "Wed", "Thu", "Fri")]
    assert location.opening_hours.splitlines() == [*weekdays, "Sat 10:00-13:00"]
    # The form shows the stored hours, which save again unchanged.
    page = client.get(url).get_data(as_text=True)
    assert "Mon 09:00-17:30\nTue 09:00-17:30" in page
    # Blank: the main phone, hours not stated.
    response = submit_form(client, url, {**LOCATION, "phone": "", "opening_hours": "", "hours_note": ""})
    assert response.status_code == 302
    db.session.refresh(location)
    assert (location.phone, location.opening_hours, location.hours_note) == ("", "", "")
    assert "opening hours not stated" in client.get("/dashboard/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("opening_hours", "Mon 17-9", "17-9 closes before it opens"),
        ("opening_hours", "Funday 9-17", "We do not recognise &#39;Funday&#39; as a day"),
        ("opening_hours", "Mon 9-25", "&#39;25&#39; is not a time"),
        ("opening_hours", "daily 8-9, 10-11, 12-13, 14-15, 16-17", "at most 28 openings"),
        ("phone", "call me maybe", "Use digits, spaces and + ( ) - only."),
        ("hours_note", "n" * 201, "Use at most 200 characters (this has 201)."),
    ],
)
def test_location_details_are_refused_with_a_message_and_the_typed_text_kept(
    client, practitioner_user, field, value, message
):
    login(client, practitioner_user)
    location = _profile(practitioner_user).locations[0]
    location.opening_hours, location.hours_note = "Mon 09:00-17:00", "Kept"
    db.session.commit()
    url = f"/dashboard/locations/{location.id}"
    response = submit_form(client, url, {**LOCATION, "label": "Changed", field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in html and message in html
    assert value in html
    location = _profile(practitioner_user).locations[0]
    assert (location.opening_hours, location.hours_note, location.label) == ("Mon 09:00-17:00", "Kept", "")


def test_a_refused_enquiry_shows_the_profile_with_its_opening_hours_and_gender(app, practitioner_user):
    profile = _profile(practitioner_user)
    profile.gender = "female"
    profile.locations[0].opening_hours, profile.locations[0].hours_note = "Mon 09:00-17:00", "Evenings by appointment"
    db.session.commit()
    patient = app.test_client()
    response = submit_form(
        patient,
        f"/practitioners/{profile.id}",
        {"name": "", "email": "paula@example.com", "message": "Too short", "consent": "y", "website": ""},
        post_url=f"/practitioners/{profile.id}/enquiry",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Please correct the marked fields." in html
    assert "Monday" in html and "09:00–17:00" in html and "Evenings by appointment" in html


def test_location_map_script_is_served_and_no_inline_script_is_used(client, practitioner_user):
    login(client, practitioner_user)
    location_id = _profile(practitioner_user).locations[0].id
    html = client.get(f"/dashboard/locations/{location_id}").get_data(as_text=True)
    assert "/vendor/leaflet/leaflet.js" in html and "/static/js/location-map.js" in html
    assert "<script>" not in html and "style=" not in html
    assert client.get("/static/js/location-map.js").status_code == 200


def test_the_last_location_of_a_published_profile_cannot_be_removed(client, practitioner_user):
    login(client, practitioner_user)
    location_id = _profile(practitioner_user).locations[0].id
    response = submit_form(client, "/dashboard/", {}, post_url=f"/dashboard/locations/{location_id}/delete")
    assert response.status_code == 302
    assert len(_profile(practitioner_user).locations) == 1
    submit_form(client, "/dashboard/locations/new", LOCATION)
    submit_form(client, "/dashboard/", {}, post_url=f"/dashboard/locations/{location_id}/delete")
    assert [loc.city for loc in _profile(practitioner_user).locations] == ["Boulder"]
    assert len(_profile(practitioner_user).locations) == 1


# --- Training and licences ----------------------------------------------------------------


def test_training_is_edited_and_removed(client, practitioner_user):
    login(client, practitioner_user)
    submit_form(
        client, "/dashboard/training/new", {"course": "CST 1", "provider": "", "hours": "24", "completed_on": ""}
    )
    training = _profile(practitioner_user).trainings[0]
    submit_form(
        client,
        f"/dashboard/training/{training.id}",
        {"course": "CST 2", "provider": "Upledger", "hours": "30.5", "completed_on": "2016-01-10"},
    )
    training = _profile(practitioner_user).trainings[0]
    assert (training.course, training.hours, training.completed_on) == ("CST 2", 30.5, date(2016, 1, 10))
    future = submit_form(
        client, f"/dashboard/training/{training.id}", {"course": "CST 3", "completed_on": "2999-01-01"}
    )
    assert future.status_code == 400 and "future" in future.get_data(as_text=True)
    submit_form(client, "/dashboard/", {}, post_url=f"/dashboard/training/{training.id}/delete")
    assert _profile(practitioner_user).trainings == []


def test_licence_is_edited_and_removed(client, practitioner_user):
    login(client, practitioner_user)
    submit_form(client, "/dashboard/licences/new", {"profession": "PT", "jurisdiction": "Colorado", "number": "PT-1"})
    licence = _profile(practitioner_user).licenses[0]
    submit_form(client, f"/dashboard/licences/{licence.id}", {"profession": "OT", "jurisdiction": "Utah", "number": ""})
    licence = _profile(practitioner_user).licenses[0]
    assert (licence.profession, licence.jurisdiction, licence.number) == ("OT", "Utah", "")
    bad = submit_form(client, f"/dashboard/licences/{licence.id}", {"profession": "Wizard", "jurisdiction": "Utah"})
    assert bad.status_code == 400
    submit_form(client, "/dashboard/", {}, post_url=f"/dashboard/licences/{licence.id}/delete")
    assert _profile(practitioner_user).licenses == []


# --- Certifications and evidence ----------------------------------------------------------


def test_changing_a_verified_certification_sends_it_back_to_pending(client, practitioner_user, admin_user):
    cert = CertificationFactory(practitioner=_profile(practitioner_user), credential_number="U-1")
    cert.mark_verified("register checked", by=admin_user)
    db.session.commit()
    login(client, practitioner_user)
    url = f"/dashboard/certifications/{cert.id}"
    same = _certification_data(credential_number="U-1", issued_on="")
    assert submit_form(client, url, same).status_code == 302
    db.session.refresh(cert)
    assert cert.status == VerificationStatus.VERIFIED
    assert submit_form(client, url, {**same, "credential": "CST-D"}).status_code == 302
    db.session.refresh(cert)
    assert cert.status == VerificationStatus.PENDING and cert.credential == "CST-D" and cert.verified_at is None


def test_certification_credential_must_belong_to_the_chosen_body(client, practitioner_user):
    login(client, practitioner_user)
    response = submit_form(client, "/dashboard/certifications/new", _certification_data(credential="RCST"))
    assert response.status_code == 400 and "does not award RCST" in response.get_data(as_text=True)
    response = submit_form(
        client, "/dashboard/certifications/new", _certification_data(issued_on="2020-01-01", expires_on="2019-01-01")
    )
    assert response.status_code == 400 and "before the issue date" in response.get_data(as_text=True)
    assert _profile(practitioner_user).certifications == []


@pytest.mark.parametrize(
    ("content", "name", "mimetype"),
    [(PDF, "certificate.pdf", "application/pdf"), (PNG, "scan.png", "image/png"), (JPEG, "photo.jpeg", "image/jpeg")],
)
def test_evidence_in_pdf_png_or_jpeg_is_stored_under_a_random_name(
    app, client, practitioner_user, content, name, mimetype
):
    login(client, practitioner_user)
    response = submit_form(
        client,
        "/dashboard/certifications/new",
        {**_certification_data(), "evidence": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    [cert] = _profile(practitioner_user).certifications
    assert cert.evidence_mimetype == mimetype and cert.evidence_name == name
    assert name not in cert.evidence_path and len(cert.evidence_path) >= 32
    with open(os.path.join(app.config["UPLOAD_FOLDER"], cert.evidence_path), "rb") as stored:
        assert stored.read() == content
    download = client.get(f"/dashboard/certifications/{cert.id}/evidence")
    assert download.status_code == 200 and download.data == content
    assert download.mimetype == mimetype and "attachment" in download.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00 this is a program" * 10, "certificate.pdf", "PDF, JPEG or PNG"),
        (b"<html><script>alert(1)</script></html>", "scan.png", "PDF, JPEG or PNG"),
        (b"%PDF-1.4\n" + b"0" * MAX_EVIDENCE_BYTES, "big.pdf", "larger than 5 MB"),
        (b"", "empty.pdf", "empty"),
    ],
)
def test_evidence_that_is_not_a_small_pdf_png_or_jpeg_is_refused(
    app, client, practitioner_user, content, name, message
):
    login(client, practitioner_user)
    response = submit_form(
        client,
        "/dashboard/certifications/new",
        {**_certification_data(), "evidence": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="evidence-error"' in html and message in html
    assert _profile(practitioner_user).certifications == []
    assert os.listdir(app.config["UPLOAD_FOLDER"]) == []


def test_an_upload_beyond_the_request_limit_is_a_clear_413(client, practitioner_user):
    login(client, practitioner_user)
    big = b"%PDF-" + b"0" * (7 * 1024 * 1024)
    response = submit_form(
        client,
        "/dashboard/certifications/new",
        {**_certification_data(), "evidence": (io.BytesIO(big), "big.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


def test_replacing_evidence_removes_the_old_file_and_marks_pending(app, client, practitioner_user):
    login(client, practitioner_user)
    submit_form(
        client,
        "/dashboard/certifications/new",
        {**_certification_data(), "evidence": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    cert = _profile(practitioner_user).certifications[0]
    old = cert.evidence_path
    submit_form(
        client,
        f"/dashboard/certifications/{cert.id}",
        {**_certification_data(), "evidence": (io.BytesIO(PNG), "b.png")},
        content_type="multipart/form-data",
    )
    cert = _profile(practitioner_user).certifications[0]
    assert cert.evidence_path != old and os.listdir(app.config["UPLOAD_FOLDER"]) == [cert.evidence_path]
    submit_form(client, "/dashboard/", {}, post_url=f"/dashboard/certifications/{cert.id}/delete")
    assert os.listdir(app.config["UPLOAD_FOLDER"]) == []


def test_evidence_is_downloadable_by_its_owner_and_admins_only(
    app, client, practitioner_user, other_practitioner_user, provider_user, admin_user
):
    login(client, practitioner_user)
    submit_form(
        client,
        "/dashboard/certifications/new",
        {**_certification_data(), "evidence": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    cert = _profile(practitioner_user).certifications[0]
    url = f"/dashboard/certifications/{cert.id}/evidence"
    with app.test_request_context():
        from flask import url_for

        assert url_for("practitioners.evidence", certification_id=cert.id) == url
    assert client.get(url).status_code == 200
    for someone in (other_practitioner_user, provider_user):
        login(client, someone)
        assert client.get(url).status_code == 404
    login(client, admin_user)
    assert client.get(url).data == PDF
    anonymous = app.test_client()
    assert anonymous.get(url).status_code in (302, 401, 404)


# --- Only the owner edits -----------------------------------------------------------------


def _owned_urls(user) -> list[tuple[str, str]]:
    """Every editor route of this practitioner's profile, with ids of their own rows."""
    profile = _profile(user)
    location = profile.locations[0]
    training = Training(course="CST 1")
    licence = ProfessionalLicense(profession="LMT", jurisdiction="Colorado")
    profile.trainings.append(training)
    profile.licenses.append(licence)
    cert = CertificationFactory(practitioner=profile)
    enquiry = Enquiry(practitioner=profile, name="P", email="p@example.com", message="Hello there!", consent=True)
    db.session.add(enquiry)
    db.session.commit()
    return [
        ("GET", "/dashboard/profile"),
        ("POST", "/dashboard/profile"),
        ("GET", "/dashboard/profile/conditions"),
        ("POST", "/dashboard/profile/conditions"),
        ("POST", "/dashboard/accepting"),
        ("POST", "/dashboard/publish"),
        ("POST", "/dashboard/unpublish"),
        ("POST", f"/dashboard/enquiries/{enquiry.id}/read"),
        ("GET", "/dashboard/locations/new"),
        ("POST", "/dashboard/locations/new"),
        ("GET", f"/dashboard/locations/{location.id}"),
        ("POST", f"/dashboard/locations/{location.id}"),
        ("POST", f"/dashboard/locations/{location.id}/delete"),
        ("GET", "/dashboard/training/new"),
        ("POST", "/dashboard/training/new"),
        ("GET", f"/dashboard/training/{training.id}"),
        ("POST", f"/dashboard/training/{training.id}"),
        ("POST", f"/dashboard/training/{training.id}/delete"),
        ("GET", "/dashboard/licences/new"),
        ("POST", "/dashboard/licences/new"),
        ("GET", f"/dashboard/licences/{licence.id}"),
        ("POST", f"/dashboard/licences/{licence.id}"),
        ("POST", f"/dashboard/licences/{licence.id}/delete"),
        ("GET", "/dashboard/certifications/new"),
        ("POST", "/dashboard/certifications/new"),
        ("GET", f"/dashboard/certifications/{cert.id}"),
        ("POST", f"/dashboard/certifications/{cert.id}"),
        ("POST", f"/dashboard/certifications/{cert.id}/delete"),
        ("GET", f"/dashboard/certifications/{cert.id}/evidence"),
    ]


def _snapshot(user) -> tuple:
    profile = _profile(user)
    return (
        profile.published,
        profile.accepting_new_patients,
        len(profile.locations),
        len(profile.trainings),
        len(profile.licenses),
        len(profile.certifications),
        sum(1 for e in profile.enquiries if e.read_at),
    )


@pytest.mark.parametrize("role", ["anonymous", "provider_user", "admin_user"])
def test_nobody_but_a_practitioner_reaches_any_editor_route(app, request, practitioner_user, role):
    urls = _owned_urls(practitioner_user)
    before = _snapshot(practitioner_user)
    client = app.test_client()
    # CSRF is on: take a valid token from a public form, so that only authorization can refuse.
    token_page = client.get(f"/practitioners/{_profile(practitioner_user).id}").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    token = csrf_token_from(token_page)
    if role != "anonymous":
        login(client, request.getfixturevalue(role))
    for method, url in urls:
        if url.endswith("/evidence") and role == "admin_user":
            continue  # admins may read evidence (tested above); the route 404s here: no file
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        if role == "anonymous":
            assert response.status_code in (302, 401, 404), (method, url, response.status_code)
            if response.status_code == 302:
                assert "login" in response.headers["Location"], (method, url)
        else:
            assert response.status_code in (403, 404), (method, url, response.status_code)
    assert _snapshot(practitioner_user) == before


def test_another_practitioner_gets_404_for_every_row_of_my_profile(app, practitioner_user, other_practitioner_user):
    urls = [(m, u) for m, u in _owned_urls(practitioner_user) if any(ch.isdigit() for ch in u)]
    before = _snapshot(practitioner_user)
    client = app.test_client()
    login(client, other_practitioner_user)
    token = csrf_token_from_dashboard(client)
    for method, url in urls:
        response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 404, (method, url, response.status_code)
    assert _snapshot(practitioner_user) == before


def csrf_token_from_dashboard(client) -> str:
    """A valid CSRF token for the signed-in client."""
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/dashboard/").get_data(as_text=True))


# --- CSRF on every form -------------------------------------------------------------------


def test_every_editor_form_refuses_a_post_without_its_csrf_token(app, practitioner_user):
    urls = [(m, u) for m, u in _owned_urls(practitioner_user) if m == "POST"]
    urls.append(("POST", "/dashboard/profile/create"))
    before = _snapshot(practitioner_user)
    client = app.test_client()
    login(client, practitioner_user)
    data = {**BASICS, **LOCATION, "course": "X", "profession": "LMT", "jurisdiction": "Utah", **_certification_data()}
    for method, url in urls:
        response = client.open(url, method=method, data=data)
        assert response.status_code == 400, (url, response.status_code)
        assert "form expired" in response.get_data(as_text=True)
    assert _snapshot(practitioner_user) == before


def test_new_location_form_starts_with_country_us_so_a_zip_alone_saves(client, practitioner_user):
    login(client, practitioner_user)
    page = client.get("/dashboard/locations/new").get_data(as_text=True)
    assert 'name="country"' in page and 'value="US"' in page
    response = submit_form(client, "/dashboard/locations/new", {"postal_code": "10001", "country": "US"})
    assert response.status_code in (200, 302)
    assert any(loc.postal_code == "10001" for loc in practitioner_user.practitioner.locations)
