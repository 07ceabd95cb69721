"""Appointments in the practice's own time: booked in local time, stored in UTC, shown with the zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from directory.extensions import db
from directory.models import Referral, Role
from directory.referrals import appointments, workflow
from directory.referrals.errors import InvalidReferral
from tests.conftest import login
from tests.factories import PractitionerFactory, UserFactory
from tests.referral_helpers import assert_no_patient_details, make_referral, outbox, submit_move, token_for

BOULDER = (40.0150, -105.2705)
AUCKLAND = (-36.8485, 174.7633)


def book(client, referral, user, **body):
    """The practitioner's move to in-progress through the API."""
    return client.post(
        f"/api/v1/referrals/{referral.id}/transitions",
        json={"status": "in-progress", **body},
        headers=token_for(user),
    )


def stored(referral) -> Referral:
    """The referral as the database has it now."""
    db.session.expire_all()
    return db.session.get(Referral, referral.id)


@pytest.fixture
def auckland_user(app):
    """A practitioner whose one practice is in Auckland."""
    user = UserFactory(role=Role.PRACTITIONER, email="aroha@example.org", name="Aroha Ngata")
    practitioner = PractitionerFactory(
        user=user, email=user.email, display_name="Aroha Ngata", latitude=AUCKLAND[0], longitude=AUCKLAND[1]
    )
    practitioner.locations[0].city = "Auckland"
    db.session.commit()
    assert practitioner.locations[0].time_zone == "Pacific/Auckland"
    return user


@pytest.fixture
def two_practices_user(app):
    """A practitioner seeing patients in Boulder and in Auckland."""
    user = UserFactory(role=Role.PRACTITIONER, email="tess.two@example.org", name="Tess Two")
    practitioner = PractitionerFactory(
        user=user, email=user.email, display_name="Tess Two", locations=[BOULDER, AUCKLAND]
    )
    practitioner.locations[1].label = "Auckland rooms"
    db.session.commit()
    return user


# --- The one rule, on its own ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "zone", "utc"),
    [
        # Denver, spring forward on 2026-03-08 at 02:00 (MST -7 -> MDT -6).
        (datetime(2026, 3, 8, 1, 30), "America/Denver", datetime(2026, 3, 8, 8, 30, tzinfo=UTC)),
        (datetime(2026, 3, 8, 10, 30), "America/Denver", datetime(2026, 3, 8, 16, 30, tzinfo=UTC)),
        # Denver, fall back on 2026-11-01 at 02:00: 01:30 happens twice; the first (MDT) is taken.
        (datetime(2026, 11, 1, 1, 30), "America/Denver", datetime(2026, 11, 1, 7, 30, tzinfo=UTC)),
        (datetime(2026, 11, 1, 10, 30), "America/Denver", datetime(2026, 11, 1, 17, 30, tzinfo=UTC)),
        # Auckland: NZDT (+13) in December, NZST (+12) in June; 02:30 on 2026-04-05 happens twice.
        (datetime(2026, 12, 4, 10, 30), "Pacific/Auckland", datetime(2026, 12, 3, 21, 30, tzinfo=UTC)),
        (datetime(2026, 6, 4, 10, 30), "Pacific/Auckland", datetime(2026, 6, 3, 22, 30, tzinfo=UTC)),
        (datetime(2026, 4, 5, 2, 30), "Pacific/Auckland", datetime(2026, 4, 4, 13, 30, tzinfo=UTC)),
    ],
)
def test_a_local_time_is_read_at_the_location_and_the_first_of_a_repeated_hour_is_taken(local, zone, utc):
    assert appointments.to_utc(local, zone) == utc


@pytest.mark.parametrize(
    ("local", "zone"),
    [(datetime(2026, 3, 8, 2, 30), "America/Denver"), (datetime(2026, 9, 27, 2, 30), "Pacific/Auckland")],
)
def test_a_local_time_skipped_by_daylight_saving_is_refused(local, zone):
    with pytest.raises(InvalidReferral, match="does not exist"):
        appointments.to_utc(local, zone)


def test_a_time_with_an_offset_is_taken_as_it_is():
    moment = datetime(2026, 12, 4, 10, 30, tzinfo=UTC) + timedelta(0)
    assert appointments.to_utc(moment, "Pacific/Auckland") == moment


# --- The API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ("2026-12-04T10:30", "2026-12-04T10:30:00-07:00"),  # local time at the practice
        ("2026-12-04T17:30:00Z", "2026-12-04T10:30:00-07:00"),  # the same moment, with an offset
        ("2026-12-04T12:30:00-05:00", "2026-12-04T10:30:00-07:00"),
        ("2026-03-08T01:30:00", "2026-03-08T01:30:00-07:00"),  # before the spring change
        ("2026-03-08T03:30:00", "2026-03-08T03:30:00-06:00"),  # after it
        ("2026-11-01T01:30:00", "2026-11-01T01:30:00-06:00"),  # twice that night: the first
        ("2026-11-01T02:30:00", "2026-11-01T02:30:00-07:00"),
    ],
)
def test_the_first_appointment_is_answered_in_the_practices_time(
    client, provider_user, practitioner_user, sent, answered
):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    response = book(client, referral, practitioner_user, appointment_at=sent)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    location = practitioner_user.practitioner.locations[0]
    assert data["appointment"] == {
        "at": answered,
        "time_zone": "America/Denver",
        "location_id": location.id,
        "place": "Boulder practice",
    }
    assert data["appointment_at"] == answered  # kept for existing clients, same value
    assert appointments.as_utc(stored(referral).appointment_at) == datetime.fromisoformat(answered)


def test_a_time_skipped_in_denver_is_refused_with_a_message_and_nothing_changes(
    client, provider_user, practitioner_user
):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    version = referral.version
    response = book(client, referral, practitioner_user, appointment_at="2026-03-08T02:30")
    assert response.status_code == 400
    assert "does not exist in America/Denver" in response.get_json()["error"]
    again = stored(referral)
    assert again.status == "accepted" and again.appointment_at is None and again.version == version


def test_an_auckland_practice_books_in_new_zealand_time(client, provider_user, auckland_user):
    referral = make_referral(provider_user, auckland_user, status=workflow.ACCEPTED)
    response = book(client, referral, auckland_user, appointment_at="2026-12-04T10:30")
    assert response.status_code == 200
    assert response.get_json()["appointment"]["at"] == "2026-12-04T10:30:00+13:00"
    assert response.get_json()["appointment"]["time_zone"] == "Pacific/Auckland"
    assert stored(referral).appointment_at.astimezone(UTC) == datetime(2026, 12, 3, 21, 30, tzinfo=UTC)
    skipped = make_referral(provider_user, auckland_user, status=workflow.ACCEPTED)
    response = book(client, skipped, auckland_user, appointment_at="2026-09-27T02:30")
    assert response.status_code == 400 and "Pacific/Auckland" in response.get_json()["error"]
    # The referrer reads it in Auckland's time, with the zone's abbreviation.
    login(client, provider_user)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Fri 4 Dec 2026, 10:30 NZDT, Auckland practice" in page


def test_with_several_locations_the_booking_names_one_of_them(
    client, provider_user, two_practices_user, other_practitioner_user
):
    referral = make_referral(provider_user, two_practices_user, status=workflow.ACCEPTED)
    boulder, auckland = two_practices_user.practitioner.locations
    response = book(client, referral, two_practices_user, appointment_at="2026-12-04T10:30")
    assert response.status_code == 400 and "location_id" in response.get_json()["error"]
    not_theirs = other_practitioner_user.practitioner.locations[0].id
    response = book(client, referral, two_practices_user, appointment_at="2026-12-04T10:30", location_id=not_theirs)
    assert response.status_code == 400 and "not one of the practitioner's locations" in response.get_json()["error"]
    response = book(client, referral, two_practices_user, appointment_at="2026-12-04T10:30", location_id=999999)
    assert response.status_code == 400
    assert stored(referral).status == "accepted"
    response = book(client, referral, two_practices_user, appointment_at="2026-12-04T10:30", location_id=auckland.id)
    assert response.status_code == 200
    assert response.get_json()["appointment"] == {
        "at": "2026-12-04T10:30:00+13:00",
        "time_zone": "Pacific/Auckland",
        "location_id": auckland.id,
        "place": "Auckland rooms",
    }
    assert boulder.time_zone == "America/Denver"


def test_the_page_books_in_local_time_at_the_chosen_location(client, provider_user, two_practices_user):
    referral = make_referral(provider_user, two_practices_user, status=workflow.ACCEPTED)
    boulder = two_practices_user.practitioner.locations[0]
    login(client, two_practices_user)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert 'name="location_id"' in page and "Auckland rooms (Pacific/Auckland)" in page
    response = submit_move(
        client, referral, "in-progress", appointment_at="2026-12-04T10:30", location_id=str(boulder.id)
    )
    assert response.status_code == 302
    assert appointments.as_utc(stored(referral).appointment_at) == datetime(2026, 12, 4, 17, 30, tzinfo=UTC)
    for who in (two_practices_user, provider_user):
        login(client, who)
        assert "Fri 4 Dec 2026, 10:30 MST, Boulder practice" in client.get(f"/referrals/{referral.id}").get_data(
            as_text=True
        )
    boulder.address, boulder.phone = "1 Pearl St", "+1 303 555 0111"
    db.session.commit()
    letter = client.get(f"/referrals/{referral.id}/letter").get_data(as_text=True)
    assert "Fri 4 Dec 2026, 10:30 MST, Boulder practice" in letter
    # The letter names the practice where the patient is booked, with its address and phone.
    assert "1 Pearl St, Boulder" in letter and "Phone: +1 303 555 0111" in letter


def test_a_skipped_time_on_the_page_is_refused_with_its_reason(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    login(client, practitioner_user)
    response = submit_move(client, referral, "in-progress", appointment_at="2026-03-08T02:30")
    assert response.status_code == 400
    assert "does not exist in America/Denver" in response.get_data(as_text=True)
    assert stored(referral).status == "accepted"


def test_the_booking_email_carries_no_time_nor_patient_detail(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    before = len(outbox())
    assert book(client, referral, practitioner_user, appointment_at="2026-12-04T10:30").status_code == 200
    (mail,) = outbox()[before:]
    assert mail.recipient == provider_user.email
    for text in (mail.subject, mail.text_body, mail.html_body):
        assert_no_patient_details(text)
        for leak in ("10:30", "Dec 2026", "MST", "Boulder"):
            assert leak not in text


# --- Completing only after the first appointment ----------------------------------------------


def test_a_referral_cannot_be_completed_before_its_first_appointment(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    future = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    assert book(client, referral, practitioner_user, appointment_at=future.isoformat()).status_code == 200
    body = {"status": "completed", "note": "Done", "outcome": {"sessions": 1}}
    headers = token_for(practitioner_user)
    response = client.post(f"/api/v1/referrals/{referral.id}/transitions", json=body, headers=headers)
    assert response.status_code == 409
    assert "has not happened yet" in response.get_json()["error"]
    assert stored(referral).status == "in-progress"
    # Once its time has passed, it can.
    stored(referral).appointment_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    response = client.post(f"/api/v1/referrals/{referral.id}/transitions", json=body, headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "completed"
