"""CSV import and export: an association loads its register, re-imports update, bad files write nothing."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from directory.csv_io import COLUMNS, OPTIONAL_COLUMNS, CsvImportError, decode_csv, import_practitioners, parse_csv
from directory.extensions import db
from directory.models import Certification, PracticeLocation, Practitioner, VerificationStatus
from tests.factories import CertificationFactory, PractitionerFactory

HEADER = ",".join(COLUMNS)
# The columns of files written before the optional trailing ones existed.
OLD_COLUMNS = [c for c in COLUMNS if c not in OPTIONAL_COLUMNS]


def row(**values) -> dict:
    """A valid row (Boulder, CO, with coordinates), overridden by values."""
    base = {
        "name": "Jane Doe",
        "email": "jane@example.org",
        "practice_name": "Still Point",
        "address": "1942 Broadway",
        "city": "Boulder",
        "region": "CO",
        "postal_code": "80302",
        "country": "US",
        "latitude": "40.0176",
        "longitude": "-105.2797",
        "conditions": "tmj;migraine-headache",
        "credentials": "upledger:CST-D@2027-05-01;bcta-na:RCST",
        "accepting_new_patients": "yes",
        "session_minutes": "60",
        "languages": "English;Spanish",
        "phone": "303-555-0100",
        "website": "https://stillpoint.example.com",
    }
    base.update(values)
    return base


def csv_text(*rows: dict, columns=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def counts() -> tuple[int, int, int]:
    """Practitioners, locations and certifications in the database."""
    return tuple(
        db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Practitioner, PracticeLocation, Certification)
    )


def practitioner(email: str) -> Practitioner:
    db.session.expire_all()
    return db.session.execute(select(Practitioner).filter_by(email=email)).scalar_one()


def test_association_imports_its_register_as_published_profiles(app):
    report = import_practitioners(csv_text(row(), row(name="Tom Ray", email="tom@example.org", conditions="")))
    assert (report.practitioners_created, report.locations_created, report.certifications_created) == (2, 2, 4)
    jane = practitioner("jane@example.org")
    assert jane.published and jane.display_name == "Jane Doe" and jane.practice_name == "Still Point"
    assert sorted(c.slug for c in jane.conditions) == ["migraine-headache", "tmj"]
    assert jane.languages == "English, Spanish" and jane.session_minutes == 60 and jane.accepting_new_patients
    assert jane.locations[0].latitude == pytest.approx(40.0176) and jane.locations[0].postal_code == "80302"
    assert jane.locations[0].condition_bits == jane.condition_bits != 0
    creds = {(c.body.slug, c.credential): c for c in jane.certifications}
    assert creds[("upledger", "CST-D")].expires_on == date(2027, 5, 1)
    assert creds[("bcta-na", "RCST")].expires_on is None
    assert all(c.status == VerificationStatus.PENDING for c in creds.values())
    assert any("new practitioner Jane Doe" in line for line in report.changes)


def test_imported_practitioner_is_found_by_search(client):
    import_practitioners(csv_text(row()))
    data = client.get("/api/v1/practitioners?near=80302&radius_km=10&condition=tmj").get_json()
    assert [r["name"] for r in data["results"]] == ["Jane Doe"]


def test_importing_the_same_file_twice_updates_and_never_duplicates(app):
    text = csv_text(row(), row(address="", city="Denver", postal_code="", latitude="39.7392", longitude="-104.9903"))
    import_practitioners(text)
    before = counts()
    report = import_practitioners(text)
    assert counts() == before == (1, 2, 2)
    assert report.practitioners_unchanged == 1 and report.practitioners_created == 0
    changed = csv_text(row(phone="303-555-0199", conditions="fibromyalgia"))
    report = import_practitioners(changed)
    assert report.practitioners_updated == 1 and report.locations_removed == 1
    jane = practitioner("jane@example.org")
    assert jane.phone == "303-555-0199" and [c.slug for c in jane.conditions] == ["fibromyalgia"]
    assert jane.locations[0].condition_bits == jane.condition_bits
    assert counts() == (1, 1, 2)
    assert "changed phone, conditions" in report.changes[0]


def test_reimport_matches_existing_profile_whatever_the_email_case(app):
    PractitionerFactory(email="jane@example.org", display_name="Old Name")
    import_practitioners(csv_text(row(email="JANE@Example.ORG")))
    assert counts()[0] == 1
    assert practitioner("jane@example.org").display_name == "Jane Doe"


def test_rows_with_the_same_email_are_one_practitioner_with_several_locations(app):
    text = csv_text(
        row(),
        # Later rows may leave the practitioner's own fields blank.
        {"name": "", "email": "jane@example.org", "city": "Denver", "region": "CO", "country": "US",
         "latitude": "39.7392", "longitude": "-104.9903"},
    )  # fmt: skip
    import_practitioners(text)
    jane = practitioner("jane@example.org")
    assert sorted(loc.city for loc in jane.locations) == ["Boulder", "Denver"]
    assert jane.phone == "303-555-0100"


def test_rows_of_one_email_that_disagree_are_rejected(app):
    with pytest.raises(CsvImportError) as error:
        import_practitioners(csv_text(row(), row(city="Denver", phone="111")))
    assert error.value.line == 3 and "phone differs from line 2" in error.value.reason
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    "fields, city, country",
    [
        ({"address": "", "city": "", "region": "", "postal_code": "10001", "country": "US"}, "New York", "US"),
        ({"address": "12 High St", "city": "Bath", "region": "", "postal_code": "BA1 1AA", "country": "GB"}, "Bath", "GB"),
        ({"address": "", "city": "Portland", "region": "OR", "postal_code": "", "country": "US"}, "Portland", "US"),
        ({"address": "", "city": "Munich", "region": "", "postal_code": "", "country": "Germany"}, "Munich", "DE"),
    ],
)  # fmt: skip
def test_blank_coordinates_are_geocoded_from_the_address(app, fields, city, country):
    parsed = parse_csv(csv_text(row(latitude="", longitude="", **fields)))[0]
    assert parsed.geocoded and parsed.country == country and parsed.city == city
    import_practitioners(csv_text(row(latitude="", longitude="", **fields)))
    location = practitioner("jane@example.org").locations[0]
    assert location.latitude == pytest.approx(parsed.latitude) and location.country == country
    if city == "Portland":
        assert location.latitude == pytest.approx(45.52, abs=0.1)  # Oregon, not Maine
    if city == "Munich":
        assert location.longitude == pytest.approx(11.57, abs=0.1)


@pytest.mark.parametrize(
    "bad, line, reason",
    [
        ({"conditions": "tmj;gout"}, 3, "unknown condition 'gout'"),
        ({"credentials": "acme:CST-T"}, 3, "unknown certifying body 'acme'"),
        ({"credentials": "upledger:CST-X"}, 3, "upledger does not award 'CST-X'"),
        ({"credentials": "upledger"}, 3, "must look like body-slug:CREDENTIAL"),
        ({"credentials": "upledger:CST-T@2027-13-01"}, 3, "is not a date"),
        ({"credentials": "upledger:CST-T@01/05/2027"}, 3, "is not a date"),
        ({"latitude": "north"}, 3, "latitude 'north' is not a number"),
        ({"longitude": "1,5"}, 3, "longitude '1,5' is not a number"),
        ({"latitude": "91"}, 3, "latitude '91' must be between -90 and 90"),
        ({"longitude": "-180.5"}, 3, "longitude '-180.5' must be between -180 and 180"),
        ({"latitude": "nan"}, 3, "latitude 'nan' must be between"),
        ({"longitude": ""}, 3, "give both latitude and longitude"),
        ({"accepting_new_patients": "perhaps"}, 3, "accepting_new_patients 'perhaps': Answer yes or no."),
        ({"session_minutes": "an hour"}, 3, "session_minutes 'an hour': Session length must be a whole number"),
        ({"session_minutes": "-5"}, 3, "session_minutes '-5': Session length"),
        ({"session_minutes": "300"}, 3, "minutes from 15 to 240"),
        ({"email": "not-an-email"}, 3, "email 'not-an-email': This email address is not valid"),
        ({"email": "jane@clinic.test"}, 3, "special-use or reserved name"),
        ({"email": ""}, 3, "email: This email address is not valid: An email address is required."),
        ({"name": ""}, 3, "name: Enter the name to show on the profile."),
        ({"name": "x" * 121}, 3, "name: Use at most 120 characters (this has 121)."),
        ({"phone": "1" * 41}, 3, "Use at most 40 characters (this has 41)."),
        ({"phone": "call me maybe"}, 3, "phone 'call me maybe': Use digits, spaces and + ( ) - only."),
        ({"address": "a" * 301}, 3, "address is too long (301 characters, at most 300)"),
        ({"country": "Atlantis"}, 3, "unknown country 'Atlantis'"),
        ({"website": "javascript:alert(1)"}, 3, "website 'javascript:alert(1)': Enter a full web address"),
        ({"latitude": "", "longitude": "", "address": "", "city": "Nowhereville Xyz", "postal_code": ""}, 3,
         "could not be geocoded"),
        ({"latitude": "", "longitude": "", "address": "", "city": "", "postal_code": ""}, 3, "give an address"),
        ({"languages": "English;Elvish"}, 3,
         "languages 'English;Elvish': We do not recognise 'Elvish' as a language. Use its name, e.g. Spanish"),
        ({"fee_min": "-5"}, 3, "fee_min '-5': Enter a whole amount from 0 to 100000."),
        ({"fee_max": "ten"}, 3, "fee_max 'ten': Enter a whole amount from 0 to 100000."),
        ({"fee_min": "90.50"}, 3, "fee_min '90.50': Enter a whole amount"),
        ({"fee_min": "90", "fee_max": "60"}, 3, "fee_max '60': The upper fee must not be lower than the starting fee."),
        ({"currency": "EURO"}, 3, "currency 'EURO': Use the three-letter ISO 4217 code, e.g. USD."),
        ({"currency": "€"}, 3, "currency '€': Use the three-letter ISO 4217 code"),
        ({"wheelchair_accessible": "sometimes"}, 3, "wheelchair_accessible 'sometimes': Answer yes or no."),
        ({"gender": "robot"}, 3, "gender 'robot': Choose female, male or non-binary, or leave it blank."),
        ({"gender": "x" * 21}, 3, "gender is too long (21 characters, at most 20)"),
    ],
)  # fmt: skip
def test_a_bad_row_stops_the_import_with_its_line_and_writes_nothing(app, bad, line, reason):
    PractitionerFactory(email="existing@example.org", display_name="Existing")
    before = counts()
    text = csv_text(row(email="first@example.org"), row(**bad), row(email="third@example.org"))
    with pytest.raises(CsvImportError) as error:
        import_practitioners(text)
    assert error.value.line == line
    assert reason in error.value.reason
    assert str(error.value) == f"line {line}: {error.value.reason}"
    assert counts() == before
    assert practitioner("existing@example.org").display_name == "Existing"


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("", 1, "empty"),
        ("\n\n  \n", 1, "empty"),
        ("name,email\nJane,jane@example.org\n", 1, "missing columns: practice_name, address"),
        (HEADER + "\n", 1, "no practitioners"),
        (HEADER + ",name\n", 1, "repeated columns: name"),
        (HEADER + "\nJane Doe,jane@example.org\n", 2, f"expected {len(COLUMNS)} fields, found 2"),
        (",".join(OLD_COLUMNS) + "\nJane Doe,jane@example.org\n", 2, f"expected {len(OLD_COLUMNS)} fields, found 2"),
        (
            ",".join([*OLD_COLUMNS, "fee_min"]) + "\n",
            1,
            "missing column: fee_max (a file with fee_min needs fee_max too)",
        ),
        (",".join([*OLD_COLUMNS, "fee_max"]) + "\n", 1, "missing column: fee_min"),
        (HEADER + '\n"Jane Doe,jane@example.org\n', 2, "not valid CSV"),
        (HEADER + "\nJane\x00 Doe" + ",x" * (len(COLUMNS) - 1) + "\n", 2, "name contains a control character"),
    ],
)
def test_malformed_files_are_rejected(app, text, line, reason):
    with pytest.raises(CsvImportError) as error:
        import_practitioners(text)
    assert error.value.line == line and reason in error.value.reason
    assert counts() == (0, 0, 0)


def test_a_file_that_is_not_utf8_is_rejected_with_its_line():
    data = (HEADER + "\n" + csv_text(row(name="Zoë")).splitlines()[1] + "\n").encode("latin-1")
    with pytest.raises(CsvImportError) as error:
        decode_csv(data)
    assert error.value.line == 2 and "not UTF-8" in error.value.reason
    assert decode_csv("\ufeffname".encode()) == "name"


def test_oversized_field_beyond_the_csv_limit_is_rejected(app):
    text = csv_text(row(practice_name="p" * 200_000))
    with pytest.raises(CsvImportError) as error:
        import_practitioners(text)
    assert error.value.line == 2
    assert counts() == (0, 0, 0)


def test_extra_columns_and_column_order_do_not_matter(app):
    columns = ["member_number", *reversed(COLUMNS)]
    import_practitioners(csv_text(row(member_number="42"), columns=columns))
    assert practitioner("jane@example.org").practice_name == "Still Point"


def test_mark_verified_marks_the_files_credentials_verified_with_the_source(app):
    other = PractitionerFactory(email="other@example.org")
    untouched = CertificationFactory(practitioner=other)
    report = import_practitioners(csv_text(row()), mark_verified="BCTA/NA register 2026")
    assert report.certifications_verified == 2
    for cert in practitioner("jane@example.org").certifications:
        assert cert.status == VerificationStatus.VERIFIED
        assert cert.verification_source == "BCTA/NA register 2026" and cert.verified_at is not None
    assert db.session.get(Certification, untouched.id).status == VerificationStatus.PENDING
    again = import_practitioners(csv_text(row()), mark_verified="BCTA/NA register 2026")
    assert again.certifications_verified == 0 and again.practitioners_unchanged == 1


def test_a_changed_expiry_without_mark_verified_goes_back_to_the_queue(app):
    import_practitioners(csv_text(row()), mark_verified="register")
    report = import_practitioners(csv_text(row(credentials="upledger:CST-D@2028-01-01;bcta-na:RCST")))
    assert report.certifications_updated == 1
    creds = {c.credential: c for c in practitioner("jane@example.org").certifications}
    assert creds["CST-D"].status == VerificationStatus.PENDING and creds["CST-D"].expires_on == date(2028, 1, 1)
    assert creds["RCST"].status == VerificationStatus.VERIFIED


def test_dry_run_reports_changes_and_writes_nothing(app):
    report = import_practitioners(csv_text(row()), dry_run=True)
    assert report.dry_run and report.practitioners_created == 1 and report.certifications_created == 2
    assert "Would import" in report.summary()
    assert counts() == (0, 0, 0)


def test_parse_csv_gives_rows_for_a_preview(app):
    rows = parse_csv(csv_text(row()))
    assert rows[0].line == 2 and rows[0].email == "jane@example.org" and rows[0].name == "Jane Doe"
    assert rows[0].credentials == [("upledger", "CST-D", date(2027, 5, 1)), ("bcta-na", "RCST", None)]
    assert counts() == (0, 0, 0)


def test_export_then_import_round_trips(app, runner, tmp_path):
    jane = PractitionerFactory(
        email="jane@example.org",
        display_name='Jane, "JD" Doe',
        practice_name="Still Point; Bodywork",
        locations=[(40.0176, -105.2797), (39.7392, -104.9903)],
        conditions=["tmj", "fibromyalgia"],
        languages="English, Spanish",
        accepting_new_patients=False,
        session_minutes=75,
        phone="+1 303-555-0100",
    )
    CertificationFactory(practitioner=jane, credential="CST-D", expires_on=date(2027, 5, 1))
    PractitionerFactory(email="tom@example.org", display_name="Tom Ray", latitude=-33.8688, longitude=151.2093)
    path = tmp_path / "register.csv"
    result = runner.invoke(args=["export-practitioners", str(path)])
    assert result.exit_code == 0, result.output
    first = path.read_text(encoding="utf-8")
    assert first.splitlines()[0] == HEADER

    def snapshot():
        db.session.expire_all()
        return sorted(
            (
                p.email, p.display_name, p.practice_name, p.languages, p.accepting_new_patients, p.session_minutes,
                p.phone, sorted(c.slug for c in p.conditions),
                sorted((loc.latitude, loc.longitude, loc.city, loc.country) for loc in p.locations),
                sorted((c.body.slug, c.credential, c.expires_on) for c in p.certifications),
            )
            for p in db.session.execute(select(Practitioner)).scalars()
        )  # fmt: skip

    before = snapshot()
    report = import_practitioners(first)
    assert report.practitioners_unchanged == 2
    # Into an empty directory: the same practitioners come back.
    from tests.conftest import reset_database

    db.session.rollback()  # end the read transaction, or PostgreSQL's TRUNCATE waits for it
    reset_database()
    import_practitioners(first)
    assert snapshot() == before
    second = runner.invoke(args=["export-practitioners"])
    assert second.exit_code == 0 and second.output == first


def test_import_command_reports_and_exits_zero(runner, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(csv_text(row()), encoding="utf-8")
    result = runner.invoke(args=["import-practitioners", str(path), "--mark-verified", "Upledger register"])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output and "2 marked verified" in result.output
    assert practitioner("jane@example.org").certifications[0].verification_source == "Upledger register"


def test_import_command_fails_with_line_and_reason(runner, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(csv_text(row(), row(email="b@example.org", conditions="gout")), encoding="utf-8")
    result = runner.invoke(args=["import-practitioners", str(path)])
    assert result.exit_code != 0
    assert "line 3: unknown condition 'gout'" in result.output and "nothing was imported" in result.output
    assert counts() == (0, 0, 0)


def test_import_command_rejects_a_file_that_is_not_utf8(runner, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(csv_text(row(name="Zoë")).encode("utf-16"))
    result = runner.invoke(args=["import-practitioners", str(path)])
    assert result.exit_code != 0 and "not UTF-8" in result.output
    missing = runner.invoke(args=["import-practitioners", str(tmp_path / "missing.csv")])
    assert missing.exit_code != 0


def test_export_command_writes_to_stdout_without_a_file(runner):
    PractitionerFactory(email="jane@example.org", display_name="Jane Doe")
    result = runner.invoke(args=["export-practitioners"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == HEADER and lines[1].startswith("Jane Doe,jane@example.org,")


def test_a_register_of_thousands_of_rows_imports_in_one_go(app):
    rows = [
        row(
            email=f"p{i}@example.org", name=f"P {i}", latitude=str(40 + i % 61 / 20), longitude=str(-105 + i // 61 / 20)
        )
        for i in range(3000)
    ]
    report = import_practitioners(csv_text(*rows))
    assert report.practitioners_created == 3000 and counts() == (3000, 3000, 6000)


def test_export_defuses_spreadsheet_formulas_and_the_import_restores_them(runner, tmp_path):
    """A practitioner's text must not run as a formula when an admin opens the export in a spreadsheet."""
    PractitionerFactory(
        email="mallory@example.org",
        display_name='=HYPERLINK("http://evil.example","Click")',
        practice_name="@SUM(1+1)",
        languages="English",
        phone="+1 303-555-0100",
        locations=[(40.0176, -105.2797)],
    )
    jane = PractitionerFactory(
        email="jane@example.org", display_name="'=already quoted", practice_name="-2+3+cmd|' /C calc'!A0"
    )
    jane.locations[0].address = "\t=1+1"
    db.session.commit()
    result = runner.invoke(args=["export-practitioners"])
    assert result.exit_code == 0, result.output
    cells = [cell for record in csv.reader(io.StringIO(result.output)) for cell in record]
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # Only numbers are left starting with a sign: a phone number and a longitude.
    assert "+1 303-555-0100" in dangerous
    assert all(cell == "+1 303-555-0100" or float(cell) < 0 for cell in dangerous)
    assert '\'=HYPERLINK("http://evil.example","Click")' in cells and "'@SUM(1+1)" in cells
    assert "''=already quoted" in cells and "'-2+3+cmd|' /C calc'!A0" in cells
    # The import takes the apostrophes off again: the export round-trips.
    from tests.conftest import reset_database

    db.session.rollback()
    reset_database()
    import_practitioners(result.output)
    names = sorted(p.display_name for p in db.session.execute(select(Practitioner)).scalars())
    assert names == ["'=already quoted", '=HYPERLINK("http://evil.example","Click")']
    assert practitioner("jane@example.org").practice_name == "-2+3+cmd|' /C calc'!A0"
    assert practitioner("mallory@example.org").practice_name == "@SUM(1+1)"
    assert practitioner("mallory@example.org").phone == "+1 303-555-0100"
    assert runner.invoke(args=["export-practitioners"]).output == result.output


# --- The optional trailing columns: fees, currency, wheelchair access, gender ------------------


def test_the_new_columns_are_imported_through_the_editors_rules(client):
    details = {
        "fee_min": "60",
        "fee_max": "90",
        "currency": "gbp",
        "wheelchair_accessible": "Yes",
        "gender": "Non-binary",
    }
    import_practitioners(csv_text(row(**details)))
    jane = practitioner("jane@example.org")
    assert (jane.fee_min, jane.fee_max, jane.currency) == (60, 90, "GBP")
    assert jane.wheelchair_accessible is True and jane.gender == "nonbinary"
    # The search sees them (its index copies are filled from the imported practitioner).
    found = client.get("/api/v1/practitioners?near=80302&radius_km=10&gender=nonbinary&wheelchair=1").get_json()
    assert [r["name"] for r in found["results"]] == ["Jane Doe"]
    assert client.get("/api/v1/practitioners?near=80302&radius_km=10&gender=female").get_json()["results"] == []


def test_an_old_file_without_the_new_columns_still_imports_with_the_defaults(app):
    report = import_practitioners(csv_text(row(), columns=OLD_COLUMNS))
    assert report.practitioners_created == 1
    jane = practitioner("jane@example.org")
    assert (jane.fee_min, jane.fee_max, jane.currency, jane.wheelchair_accessible, jane.gender) == (
        None, None, "USD", False, None,
    )  # fmt: skip


def test_an_old_file_leaves_the_new_fields_of_an_existing_profile_as_they_are(app):
    details = {"fee_min": "70", "fee_max": "85", "currency": "EUR", "wheelchair_accessible": "yes", "gender": "female"}
    import_practitioners(csv_text(row(**details)))
    report = import_practitioners(csv_text(row(), columns=OLD_COLUMNS))
    assert report.practitioners_unchanged == 1
    report = import_practitioners(csv_text(row(phone="303-555-0199"), columns=OLD_COLUMNS))
    assert report.practitioners_updated == 1 and "changed phone" in report.changes[0]
    jane = practitioner("jane@example.org")
    assert (jane.fee_min, jane.fee_max, jane.currency, jane.wheelchair_accessible, jane.gender) == (
        70, 85, "EUR", True, "female",
    )  # fmt: skip


def test_blank_new_cells_mean_the_defaults_as_for_the_other_columns(app):
    details = {"fee_min": "70", "fee_max": "85", "currency": "EUR", "wheelchair_accessible": "yes", "gender": "female"}
    import_practitioners(csv_text(row(**details)))
    report = import_practitioners(csv_text(row()))  # the columns are there, their cells blank
    assert report.practitioners_updated == 1
    assert "changed fee_min, fee_max, currency, wheelchair_accessible, gender" in report.changes[0]
    jane = practitioner("jane@example.org")
    assert (jane.fee_min, jane.fee_max, jane.currency, jane.wheelchair_accessible, jane.gender) == (
        None, None, "USD", False, None,
    )  # fmt: skip


def test_rows_of_one_email_must_agree_on_the_new_columns_too(app):
    text = csv_text(
        row(gender="male", fee_min="50"),
        row(city="Denver", latitude="39.7392", longitude="-104.9903", gender="female"),
    )
    with pytest.raises(CsvImportError) as error:
        import_practitioners(text)
    assert error.value.line == 3 and "gender differs from line 2" in error.value.reason
    assert counts() == (0, 0, 0)
    # A later row may leave them blank.
    import_practitioners(
        csv_text(row(gender="male", fee_min="50"), row(city="Denver", latitude="39.7392", longitude="-104.9903"))
    )
    jane = practitioner("jane@example.org")
    assert jane.gender == "male" and jane.fee_min == 50 and len(jane.locations) == 2


def test_the_export_writes_the_new_columns_last(runner):
    PractitionerFactory(
        email="jane@example.org",
        display_name="Jane Doe",
        fee_min=60,
        fee_max=None,
        currency="CAD",
        wheelchair_accessible=True,
        gender="female",
    )
    PractitionerFactory(email="tom@example.org", display_name="Tom Ray")
    result = runner.invoke(args=["export-practitioners"])
    assert result.exit_code == 0, result.output
    records = list(csv.DictReader(io.StringIO(result.output)))
    assert list(records[0])[-5:] == ["fee_min", "fee_max", "currency", "wheelchair_accessible", "gender"]
    jane, tom = records
    assert [jane[c] for c in OPTIONAL_COLUMNS] == ["60", "", "CAD", "yes", "female"]
    assert [tom[c] for c in OPTIONAL_COLUMNS] == ["", "", "USD", "no", ""]


def test_the_new_columns_round_trip_through_export_and_import(app, runner):
    jane = PractitionerFactory(
        email="jane@example.org",
        fee_min=65,
        fee_max=80,
        currency="GBP",
        wheelchair_accessible=True,
        gender="nonbinary",
        languages="English, Welsh",
    )
    PractitionerFactory(email="tom@example.org", gender=None, fee_min=None, fee_max=120)
    CertificationFactory(practitioner=jane)
    first = runner.invoke(args=["export-practitioners"]).output

    def snapshot():
        db.session.expire_all()
        return sorted(
            (p.email, p.fee_min, p.fee_max, p.currency, p.wheelchair_accessible, p.gender, p.languages)
            for p in db.session.execute(select(Practitioner)).scalars()
        )

    before = snapshot()
    assert import_practitioners(first).practitioners_unchanged == 2
    from tests.conftest import reset_database

    db.session.rollback()
    reset_database()
    import_practitioners(first)
    assert snapshot() == before
    assert runner.invoke(args=["export-practitioners"]).output == first
