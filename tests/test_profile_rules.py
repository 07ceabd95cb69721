"""One rule per practitioner field: the profile editor and the CSV import accept and refuse the same
values with the same message, and send a changed credential back to verification the same way."""

from __future__ import annotations

from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import event, select

from directory.csv_io import CsvImportError, import_practitioners
from directory.extensions import db
from directory.models import Certification, Practitioner, Role, VerificationStatus
from directory.practitioners import rules
from directory.practitioners.profiles import unclaimed_profile_for
from tests.conftest import login, submit_form
from tests.factories import CertificationFactory, PractitionerFactory, UserFactory, body
from tests.test_csv import csv_text, row
from tests.test_profile_editor import BASICS, LANGUAGES_TOO_LONG

REFUSED = object()

# (editor field, CSV column, the model attribute each writes, value, what is stored or REFUSED)
CASES = [
    ("session_minutes", "session_minutes", "session_minutes", "10", REFUSED),
    ("session_minutes", "session_minutes", "session_minutes", "300", REFUSED),
    ("session_minutes", "session_minutes", "session_minutes", "14", REFUSED),
    ("session_minutes", "session_minutes", "session_minutes", "241", REFUSED),
    ("session_minutes", "session_minutes", "session_minutes", "sixty", REFUSED),
    ("session_minutes", "session_minutes", "session_minutes", "60", 60),
    ("session_minutes", "session_minutes", "session_minutes", "15", 15),
    ("session_minutes", "session_minutes", "session_minutes", "240", 240),
    ("website", "website", "website", "ftp://x", REFUSED),
    ("website", "website", "website", "ftp://files.example.org", REFUSED),
    ("website", "website", "website", "javascript:alert(1)", REFUSED),
    ("website", "website", "website", "https://still point.example.org", REFUSED),
    ("website", "website", "website", "https://stillpoint.example.org/about", "https://stillpoint.example.org/about"),
    ("website", "website", "website", "stillpoint.example.org", "https://stillpoint.example.org"),
    ("phone", "phone", "phone", "call me maybe", REFUSED),
    ("phone", "phone", "phone", "1" * 41, REFUSED),
    ("phone", "phone", "phone", "+1 (303) 555-0100 ext. 12", "+1 (303) 555-0100 ext. 12"),
    ("display_name", "name", "display_name", "x" * 121, REFUSED),
    ("display_name", "name", "display_name", "  Jo Ann  ", "Jo Ann"),
    ("practice_name", "practice_name", "practice_name", "p" * 161, REFUSED),
    ("languages", "languages", "languages", "English;  Spanish, english,", "English, Spanish"),
    ("languages", "languages", "languages", "Español; en; FRANÇAIS", "Spanish, English, French"),
    ("languages", "languages", "languages", "English; Elvish", REFUSED),
    # 190 characters as typed, 416 once stored by their English names: longer than the column.
    ("languages", "languages", "languages", LANGUAGES_TOO_LONG, REFUSED),
    # The optional trailing columns of the CSV and the editor's fields of the same names.
    ("fee_min", "fee_min", "fee_min", "-5", REFUSED),
    ("fee_min", "fee_min", "fee_min", "9.50", REFUSED),
    ("fee_min", "fee_min", "fee_min", "90", 90),
    ("fee_max", "fee_max", "fee_max", "100001", REFUSED),
    ("fee_max", "fee_max", "fee_max", "150", 150),
    ("currency", "currency", "currency", "EURO", REFUSED),
    ("currency", "currency", "currency", " eur ", "EUR"),
    ("gender", "gender", "gender", "robot", REFUSED),
    ("gender", "gender", "gender", "Non-binary", "nonbinary"),
    ("gender", "gender", "gender", "female", "female"),
    ("gender", "gender", "gender", "", None),
    ("wheelchair_accessible", "wheelchair_accessible", "wheelchair_accessible", "sometimes", REFUSED),
    ("wheelchair_accessible", "wheelchair_accessible", "wheelchair_accessible", "yes", True),
    # The yes/no words: the editor's checkbox and the import's accepting_new_patients column.
    ("wheelchair_accessible", "accepting_new_patients", None, "maybe", REFUSED),
    ("wheelchair_accessible", "accepting_new_patients", None, "yes", True),
    ("wheelchair_accessible", "accepting_new_patients", None, "TRUE", True),
    ("wheelchair_accessible", "accepting_new_patients", None, "1", True),
    ("wheelchair_accessible", "accepting_new_patients", None, "no", False),
    ("wheelchair_accessible", "accepting_new_patients", None, "false", False),
    ("wheelchair_accessible", "accepting_new_patients", None, "0", False),
]
RULE_OF = {
    "session_minutes": rules.session_minutes,
    "website": rules.website,
    "phone": rules.phone,
    "display_name": rules.display_name,
    "practice_name": rules.practice_name,
    "languages": rules.languages,
    "wheelchair_accessible": lambda value: rules.yes_no(value, default=False),
    "fee_min": rules.fee,
    "fee_max": rules.fee,
    "currency": rules.currency,
    "gender": rules.gender,
}


def _refusal(field: str, value: str) -> str:
    """The message the field's rule gives for a value."""
    with pytest.raises(rules.FieldError) as error:
        RULE_OF[field](value)
    return str(error.value)


def _through_the_editor(client, user, field: str, value: str):
    """Save the basics form with one value; (status, page, the stored practitioner)."""
    login(client, user)
    response = submit_form(client, "/dashboard/profile", {**BASICS, field: value})
    db.session.expire_all()
    profile = db.session.execute(select(Practitioner).filter_by(user_id=user.id)).scalar_one()
    return response.status_code, response.get_data(as_text=True), profile


def _through_the_import(column: str, value: str):
    """Import one row with one value; the stored practitioner, or the CsvImportError."""
    try:
        import_practitioners(csv_text(row(**{column: value})))
    except CsvImportError as error:
        return error
    db.session.expire_all()
    return db.session.execute(select(Practitioner).filter_by(email="jane@example.org")).scalar_one()


@pytest.mark.parametrize(("field", "column", "attr", "value", "stored"), CASES)
def test_the_editor_and_the_csv_import_give_the_same_verdict_and_message(
    client, practitioner_user, field, column, attr, value, stored
):
    status, page, profile = _through_the_editor(client, practitioner_user, field, value)
    outcome = _through_the_import(column, value)
    if stored is REFUSED:
        message = _refusal(field, value)
        assert status == 400 and f'id="{field}-error"' in page and str(escape(message)) in page
        assert isinstance(outcome, CsvImportError) and outcome.line == 2
        assert outcome.reason.startswith(column) and outcome.reason.endswith(f": {message}")
        assert db.session.execute(select(Practitioner).filter_by(email="jane@example.org")).first() is None
    else:
        assert status == 302, page
        assert not isinstance(outcome, CsvImportError), outcome
        assert getattr(profile, attr or field) == stored
        assert getattr(outcome, attr or column) == stored


def test_a_csv_session_of_300_minutes_is_refused_as_the_profile_editor_refuses_it(app):
    """Before, the import allowed 5 to 600 minutes while the editor allowed 15 to 240."""
    with pytest.raises(CsvImportError) as error:
        import_practitioners(csv_text(row(session_minutes="300")))
    assert (
        error.value.reason == "session_minutes '300': Session length must be a whole number of minutes from 15 to 240."
    )
    assert db.session.execute(select(Practitioner)).first() is None


# --- When a credential goes back to verification ----------------------------------------------


def _imported_credentials() -> list[Certification]:
    db.session.expire_all()
    jane = db.session.execute(select(Practitioner).filter_by(email="jane@example.org")).scalar_one()
    return jane.certifications


def test_a_csv_change_of_credential_code_sends_the_verified_credential_back_to_verification(app):
    """Before, the old code stayed verified beside a new pending one: the profile kept its badge."""
    import_practitioners(csv_text(row(credentials="upledger:CST-T@2027-05-01")), mark_verified="Upledger register")
    [before] = _imported_credentials()
    assert before.status == VerificationStatus.VERIFIED
    report = import_practitioners(csv_text(row(credentials="upledger:CST-D@2027-05-01")))
    [after] = _imported_credentials()
    assert after.id == before.id and after.credential == "CST-D" and after.expires_on == date(2027, 5, 1)
    assert after.status == VerificationStatus.PENDING and after.verified_at is None
    assert report.certifications_updated == 1 and report.certifications_created == 0


def test_a_second_credential_of_the_same_body_is_added_beside_the_first(app):
    import_practitioners(csv_text(row(credentials="upledger:CST-T")), mark_verified="Upledger register")
    import_practitioners(csv_text(row(credentials="upledger:CST-T;upledger:CST-D")))
    statuses = {c.credential: c.status for c in _imported_credentials()}
    assert statuses == {"CST-T": VerificationStatus.VERIFIED, "CST-D": VerificationStatus.PENDING}


@pytest.mark.parametrize(
    ("credentials", "status"),
    [
        ("upledger:CST-T@2027-05-01", VerificationStatus.VERIFIED),  # nothing changed
        ("upledger:CST-T@2028-05-01", VerificationStatus.PENDING),  # a new expiry
        ("upledger:CST-T", VerificationStatus.PENDING),  # the expiry taken away
        ("upledger:CST-D@2027-05-01", VerificationStatus.PENDING),  # a new credential code
    ],
)
def test_the_import_sends_a_credential_back_exactly_when_the_editor_would(app, credentials, status):
    import_practitioners(csv_text(row(credentials="upledger:CST-T@2027-05-01")), mark_verified="register")
    [cert] = _imported_credentials()
    before = rules.credential_facts(cert)
    import_practitioners(csv_text(row(credentials=credentials)))
    [cert] = _imported_credentials()
    assert cert.status == status
    assert rules.needs_review(cert, before) == (status == VerificationStatus.PENDING)


@pytest.mark.parametrize(
    ("change", "goes_back"),
    [
        ({}, False),
        ({"credential": "CST-D"}, True),
        ({"credential_number": "U-2"}, True),
        ({"expires_on": "2030-01-01"}, True),
        ({"issued_on": "2018-01-01"}, True),
    ],
)
def test_the_editor_sends_a_verified_credential_back_on_a_change_of_code_number_or_dates(
    client, practitioner_user, admin_user, change, goes_back
):
    profile = db.session.execute(select(Practitioner).filter_by(user_id=practitioner_user.id)).scalar_one()
    cert = CertificationFactory(practitioner=profile, credential="CST-T", credential_number="U-1")
    cert.mark_verified("register checked", by=admin_user)
    db.session.commit()
    login(client, practitioner_user)
    data = {"body": str(body("upledger").id), "credential": "CST-T", "credential_number": "U-1"}
    data |= {"issued_on": "", "expires_on": ""} | change
    response = submit_form(client, f"/dashboard/certifications/{cert.id}", data)
    assert response.status_code == 302
    db.session.refresh(cert)
    assert cert.status == (VerificationStatus.PENDING if goes_back else VerificationStatus.VERIFIED)


# --- Emails are stored lower-case ---------------------------------------------------------------


def test_imported_and_created_profiles_store_their_email_lower_case(client):
    import_practitioners(csv_text(row(email="Jane.Doe@Example.ORG")))
    emails = db.session.execute(select(Practitioner.email)).scalars().all()
    assert emails == ["jane.doe@example.org"]
    assert rules.email("  Pat@Example.ORG ") == "pat@example.org"
    # Any other writer too (the model lower-cases what it is given).
    assert PractitionerFactory(email="Mixed.Case@Example.ORG").email == "mixed.case@example.org"


def test_the_editor_shows_the_saved_values_and_keeps_a_refused_one_as_typed(client, practitioner_user):
    status, _, _ = _through_the_editor(client, practitioner_user, "session_minutes", "75")
    assert status == 302
    page = client.get("/dashboard/profile").get_data(as_text=True)
    assert 'name="session_minutes" type="number" value="75"' in page and 'value="USD"' in page
    status, page, profile = _through_the_editor(client, practitioner_user, "session_minutes", "an hour")
    assert status == 400 and 'value="an hour"' in page and profile.session_minutes == 75


def test_the_unclaimed_profile_lookup_compares_emails_without_lower(app):
    """A plain equality lets PostgreSQL answer from the unique index on practitioners.email."""
    PractitionerFactory(email="later@example.org", user=None)
    user = UserFactory(email="later@example.org", role=Role.PRACTITIONER)
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ARG001
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        profile = unclaimed_profile_for(user)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert profile is not None and profile.email == "later@example.org"
    assert statements and not any("lower(" in s for s in statements)


# --- The rules themselves -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [("yes", False, True), ("Y", False, True), ("true", False, True), ("1", False, True), ("on", False, True),
     ("no", True, False), ("N", True, False), ("FALSE", True, False), ("0", True, False), ("", True, True),
     ("  ", False, False), (None, True, True)],
)  # fmt: skip
def test_yes_no_words(value, default, expected):
    assert rules.yes_no(value, default) is expected


@pytest.mark.parametrize("value", ["maybe", "2", "yess", "oui"])
def test_other_words_are_not_yes_or_no(value):
    with pytest.raises(rules.FieldError, match="Answer yes or no."):
        rules.yes_no(value, True)


@pytest.mark.parametrize(
    ("fee_min", "fee_max", "ok"),
    [(None, None, True), (80, None, True), (80, 80, True), (80, 120, True), (80, 50, False)],
)
def test_the_upper_fee_is_not_below_the_lower_one(fee_min, fee_max, ok):
    if ok:
        assert rules.fee_range(fee_min, fee_max) == (fee_min, fee_max)
    else:
        with pytest.raises(rules.FieldError, match="must not be lower"):
            rules.fee_range(fee_min, fee_max)


@pytest.mark.parametrize(("value", "expected"), [("", None), ("0", 0), ("100000", 100000), (90, 90)])
def test_fees_are_whole_amounts_from_0_to_100000(value, expected):
    assert rules.fee(value) == expected


@pytest.mark.parametrize("value", ["-1", "100001", "9.50", "ten"])
def test_fees_outside_the_range_are_refused(value):
    with pytest.raises(rules.FieldError, match="from 0 to 100000"):
        rules.fee(value)


@pytest.mark.parametrize(("value", "expected"), [("usd", "USD"), (" gbp ", "GBP")])
def test_currency_codes_are_stored_upper_case(value, expected):
    assert rules.currency(value) == expected


@pytest.mark.parametrize("value", ["", "US", "US1", "EURO"])
def test_currency_must_be_three_letters(value):
    with pytest.raises(rules.FieldError, match="ISO 4217"):
        rules.currency(value)
