"""A patient writes to a practitioner from the profile; spam is kept out without third parties."""

from __future__ import annotations

import re
import time

import pytest

from directory import create_app
from directory.extensions import db
from directory.mail import deliver_due
from directory.models import Enquiry, OutboxMessage
from directory.practitioners.enquiries import start_token
from tests.conftest import base_config, csrf_token_from, login, reset_database, submit_form
from tests.factories import PractitionerFactory

PATIENT = {
    "name": "Paula Patient",
    "email": "paula.patient@example.com",
    "phone": "+1 303 555 0199",
    "message": "My jaw clicks when I chew. Could you help, and do you have Saturday appointments?",
    "consent": "y",
    "website": "",
}


def _send(client, practitioner_id: int, data: dict, **kwargs):
    """Open the profile and send its enquiry form, hidden fields included, as a browser does."""
    page = client.get(f"/practitioners/{practitioner_id}").get_data(as_text=True)
    if 'id="enquiry-sent"' in page:  # the thank-you for the last message shows once, then the form again
        page = client.get(f"/practitioners/{practitioner_id}").get_data(as_text=True)
    started = page.split('id="enquiry-started" name="started" type="hidden" value="')[1].split('"')[0]
    payload = {"csrf_token": csrf_token_from(page), "started": started, **data}
    return client.post(f"/practitioners/{practitioner_id}/enquiry", data=payload, **kwargs)


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count(model.id))).scalar_one()


def test_profile_offers_a_labelled_contact_form_with_a_hidden_honeypot(client, practitioner_user):
    html = client.get(f"/practitioners/{practitioner_user.practitioner.id}").get_data(as_text=True)
    for label in ("Your name", "Your email address", "Phone (optional)", "Your message", "may contact me"):
        assert label in html
    assert 'class="hp-field" aria-hidden="true"' in html and 'name="website"' in html
    assert 'name="started"' in html and "<script>" not in html


def test_patient_enquiry_is_stored_and_the_practitioner_notified_without_patient_details(
    client, practitioner_user, mail_app, smtp_server
):
    profile_id = practitioner_user.practitioner.id
    response = _send(client, profile_id, PATIENT, follow_redirects=True)
    assert response.status_code == 200
    assert "Your message was sent to Pat Practitioner" in response.get_data(as_text=True)
    enquiry = db.session.execute(db.select(Enquiry)).scalar_one()
    assert (enquiry.practitioner_id, enquiry.name, enquiry.email, enquiry.phone, enquiry.consent) == (
        profile_id,
        "Paula Patient",
        "paula.patient@example.com",
        "+1 303 555 0199",
        True,
    )
    notice = db.session.execute(db.select(OutboxMessage)).scalar_one()
    assert notice.recipient == "pat.practitioner@example.org"

    assert deliver_due() == (1, 0)
    [email] = smtp_server.messages
    body = email.get_body(("plain",)).get_content() + email.get_body(("html",)).get_content() + email["Subject"]
    assert "new enquiry" in body and "http://localhost/dashboard/" in body
    for detail in ("Paula", "paula.patient@example.com", "555 0199", "jaw", "Saturday"):
        assert detail not in body


def test_inbox_lists_enquiries_newest_first_and_marks_them_read(app, client, practitioner_user):
    profile_id = practitioner_user.practitioner.id
    _send(app.test_client(), profile_id, {**PATIENT, "name": "First Patient"})
    time.sleep(0.01)
    _send(app.test_client(), profile_id, {**PATIENT, "name": "Second Patient"})
    login(client, practitioner_user)
    inbox = client.get("/dashboard/").get_data(as_text=True)
    assert inbox.index("Second Patient") < inbox.index("First Patient") and "2 new" in inbox
    newest = db.session.execute(db.select(Enquiry).filter_by(name="Second Patient")).scalar_one()
    submit_form(client, "/dashboard/", {}, post_url=f"/dashboard/enquiries/{newest.id}/read")
    db.session.refresh(newest)
    assert newest.read_at is not None
    assert "1 new" in client.get("/dashboard/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"consent": None}, "enquiry-consent", "Please agree to be contacted"),
        ({"email": "not-an-email"}, "enquiry-email", "valid email address"),
        ({"name": ""}, "enquiry-name", "This field is required."),
        ({"message": "Hi"}, "enquiry-message", "Between 10 and 3000"),
        ({"message": "x" * 3001}, "enquiry-message", "Between 10 and 3000"),
        ({"phone": "call me"}, "enquiry-phone", "digits"),
    ],
)
def test_invalid_enquiry_gets_field_errors_and_nothing_is_stored(client, practitioner_user, change, field, message):
    data = {k: v for k, v in {**PATIENT, **change}.items() if v is not None}
    response = _send(client, practitioner_user.practitioner.id, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in html and message in html
    assert 'value="Paula Patient"' in html or field == "enquiry-name"
    assert _count(Enquiry) == 0 and _count(OutboxMessage) == 0


def test_filled_honeypot_is_refused_and_nothing_is_stored(client, practitioner_user):
    response = _send(client, practitioner_user.practitioner.id, {**PATIENT, "website": "http://spam.example"})
    assert response.status_code == 400 and "looks automated" in response.get_data(as_text=True)
    assert _count(Enquiry) == 0 and _count(OutboxMessage) == 0


def test_a_form_sent_faster_than_a_person_can_type_is_refused_then_accepted_later(app, client, practitioner_user):
    app.config["ENQUIRY_MIN_SECONDS"] = 1
    profile_id = practitioner_user.practitioner.id
    page = client.get(f"/practitioners/{profile_id}").get_data(as_text=True)
    started = page.split('name="started" type="hidden" value="')[1].split('"')[0]
    payload = {"csrf_token": csrf_token_from(page), "started": started, **PATIENT}
    response = client.post(f"/practitioners/{profile_id}/enquiry", data=payload)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "very quick" in html
    assert f'value="{started}"' in html  # the same start time is kept, so a resend after a moment works
    assert _count(Enquiry) == 0
    time.sleep(1.1)
    assert client.post(f"/practitioners/{profile_id}/enquiry", data=payload).status_code == 302
    assert _count(Enquiry) == 1


@pytest.mark.parametrize("started", ["", "forged-token", "other-practitioner"])
def test_a_missing_forged_or_foreign_start_time_is_refused(app, client, practitioner_user, started):
    app.config["ENQUIRY_MIN_SECONDS"] = 1
    profile_id = practitioner_user.practitioner.id
    if started == "other-practitioner":
        started = start_token(PractitionerFactory().id)
    page = client.get(f"/practitioners/{profile_id}").get_data(as_text=True)
    payload = {"csrf_token": csrf_token_from(page), **PATIENT, "started": started}
    time.sleep(1.1)
    response = client.post(f"/practitioners/{profile_id}/enquiry", data=payload)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Your message is kept: please send it again" in html
    assert "My jaw clicks when I chew" in html  # the message is kept, in a freshly stamped form
    assert f'name="started" type="hidden" value="{started}"' not in html
    assert _count(Enquiry) == 0


def test_enquiry_without_csrf_token_is_refused(client, practitioner_user):
    response = client.post(f"/practitioners/{practitioner_user.practitioner.id}/enquiry", data=PATIENT)
    assert response.status_code == 400 and "form expired" in response.get_data(as_text=True)
    assert _count(Enquiry) == 0


def test_unpublished_or_suspended_profiles_take_no_enquiries(client, practitioner_user):
    profile = practitioner_user.practitioner
    token = csrf_token_from(client.get(f"/practitioners/{profile.id}").get_data(as_text=True))
    profile.published = False
    db.session.commit()
    url = f"/practitioners/{profile.id}/enquiry"
    assert client.post(url, data={"csrf_token": token, **PATIENT}).status_code == 404
    profile.published, profile.suspended = True, True
    db.session.commit()
    assert client.post(url, data={"csrf_token": token, **PATIENT}).status_code == 404
    assert client.post("/practitioners/999999/enquiry", data={"csrf_token": token, **PATIENT}).status_code == 404
    assert _count(Enquiry) == 0


@pytest.fixture
def limited_app(database_url, tmp_path):
    """The app with rate limits on: two enquiries a minute per address."""
    app = create_app(
        {**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True, "ENQUIRY_RATE_LIMIT": "2 per minute"}
    )
    with app.app_context():
        reset_database()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_enquiries_are_rate_limited_per_address(limited_app):
    profile_id = PractitionerFactory().id
    spammer = limited_app.test_client()
    spammer.environ_base["REMOTE_ADDR"] = "192.0.2.10"
    assert _send(spammer, profile_id, PATIENT).status_code == 302
    assert _send(spammer, profile_id, PATIENT).status_code == 302
    third = _send(spammer, profile_id, PATIENT)
    assert third.status_code == 429 and "Too many messages" in third.get_data(as_text=True)
    assert _count(Enquiry) == 2
    neighbour = limited_app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "192.0.2.20"
    assert _send(neighbour, profile_id, PATIENT).status_code == 302
    assert _count(Enquiry) == 3


def _section(html: str) -> str:
    """The enquiry section of a profile page."""
    return html.split('<section id="enquiry"')[1].split("</section>")[0]


def test_the_form_posts_to_its_own_section_so_every_answer_opens_there(client, practitioner_user):
    html = client.get(f"/practitioners/{practitioner_user.practitioner.id}").get_data(as_text=True)
    assert f'action="/practitioners/{practitioner_user.practitioner.id}/enquiry#enquiry"' in _section(html)


def test_a_refused_message_opens_at_a_summary_above_the_form_with_the_text_kept(client, practitioner_user):
    response = _send(client, practitioner_user.practitioner.id, {**PATIENT, "email": "paula@", "consent": ""})
    section = _section(response.get_data(as_text=True))
    assert response.status_code == 400
    summary = section.split('id="enquiry-problem"')[1].split("</div>")[0]
    assert "Your message was not sent" in summary
    assert 'href="#enquiry-email"' in summary and 'href="#enquiry-consent"' in summary
    assert section.index('id="enquiry-problem"') < section.index("<form")
    assert "My jaw clicks when I chew. Could you help" in section and 'value="Paula Patient"' in section


def test_after_sending_the_thank_you_replaces_the_form_once(client, practitioner_user):
    profile_id = practitioner_user.practitioner.id
    response = _send(client, profile_id, PATIENT)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/practitioners/{profile_id}#enquiry")
    section = _section(client.get(response.headers["Location"]).get_data(as_text=True))
    assert 'id="enquiry-sent"' in section and "Your message was sent to Pat Practitioner" in section
    assert "<form" not in section  # no empty form inviting a second send
    again = _section(client.get(f"/practitioners/{profile_id}").get_data(as_text=True))
    assert "<form" in again and 'id="enquiry-sent"' not in again


def test_the_thank_you_shows_only_on_the_profile_written_to(client, practitioner_user):
    _send(client, practitioner_user.practitioner.id, PATIENT)
    other = PractitionerFactory()
    section = _section(client.get(f"/practitioners/{other.id}").get_data(as_text=True))
    assert 'id="enquiry-sent"' not in section and "<form" in section


@pytest.fixture
def hourly_limited_app(database_url, tmp_path):
    """The app with the default enquiry limit on: five enquiries an hour per address."""
    app = create_app({**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True})
    assert app.config["ENQUIRY_RATE_LIMIT"] == "5 per hour"
    with app.app_context():
        reset_database()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_only_sent_enquiries_count_toward_the_limit(hourly_limited_app):
    profile_id = PractitionerFactory().id
    patient = hourly_limited_app.test_client()
    for _ in range(5):  # five slips of the keyboard: refused, and not counted
        assert _send(patient, profile_id, {**PATIENT, "email": "paula@example"}).status_code == 400
    for _ in range(5):
        assert _send(patient, profile_id, PATIENT).status_code == 302
    assert _count(Enquiry) == 5
    sixth = _send(patient, profile_id, {**PATIENT, "message": "One more question: is there parking near you?"})
    assert sixth.status_code == 429 and _count(Enquiry) == 5


def test_a_message_past_the_limit_comes_back_with_its_text_and_a_way_back(limited_app):
    profile = PractitionerFactory(phone="+1 303 555 0100")
    patient = limited_app.test_client()
    _send(patient, profile.id, PATIENT)
    _send(patient, profile.id, PATIENT)
    third = _send(patient, profile.id, {**PATIENT, "message": "A third note: do you see children as well?"})
    html = third.get_data(as_text=True)
    assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
    section = _section(html)
    summary = section.split('id="enquiry-problem"')[1].split("</div>")[0]
    assert "was not sent" in summary and re.search(r"send it again in about \d+ minutes?", summary)
    assert "555 0100" in summary  # another way to reach the practitioner now
    assert f'href="/practitioners/{profile.id}"' in summary  # back to the profile, not a re-post
    assert "A third note: do you see children as well?" in section and 'value="Paula Patient"' in section
    assert "<h1 " in html and profile.display_name in html  # the whole profile, not a bare error page
    assert _count(Enquiry) == 2
