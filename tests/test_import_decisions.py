"""The CSV import respects decisions made on the site, and streams files of any size."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from directory.csv_io import CsvImportError, import_practitioners, import_stream
from directory.csv_io.importer import WRITE_BATCH
from directory.extensions import db
from directory.models import Practitioner
from tests.admin_support import admin_client  # noqa: F401
from tests.conftest import login, submit_form
from tests.test_csv import counts, csv_text, practitioner, row

PAT = "pat.practitioner@example.org"
EDITOR = {
    "display_name": "Pat Practitioner",
    "practice_name": "Still Point",
    "bio": "Gentle sessions.",
    "phone": "303-555-0100",
    "website": "",
    "session_minutes": "60",
    "fee_min": "",
    "fee_max": "",
    "currency": "USD",
    "languages": "English",
}


def pat_row(**values) -> dict:
    return row(**{"name": "Pat Practitioner", "email": PAT, **values})


# --- Unpublished profiles stay unpublished ------------------------------------------------


def test_a_profile_its_owner_unpublished_stays_unpublished_and_the_summary_says_so(client, practitioner_user):
    import_practitioners(csv_text(pat_row()))
    login(client, practitioner_user)
    assert submit_form(client, "/dashboard/", {}, post_url="/dashboard/unpublish").status_code in (302, 303)
    assert practitioner(PAT).unpublished_by == "owner"

    report = import_practitioners(csv_text(pat_row(phone="303-555-0199")))
    db.session.commit()
    p = practitioner(PAT)
    assert not p.published
    assert p.phone == "303-555-0199"  # the rest of the file still applies
    assert report.kept_unpublished == 1 and report.practitioners_updated == 1
    assert "1 unpublished profile(s) left unpublished" in report.summary()
    [decision] = report.decisions
    assert decision.startswith("line 2: Pat Practitioner <pat.practitioner@example.org>: left unpublished")
    assert "unpublished by its owner on " in decision
    assert decision in report.changes

    # Published again by the owner: the decision is gone, and imports publish as before.
    submit_form(client, "/dashboard/", {}, post_url="/dashboard/publish")
    p = practitioner(PAT)
    assert p.published and p.unpublished_by is None
    report = import_practitioners(csv_text(pat_row(phone="303-555-0100")))
    assert practitioner(PAT).published and report.kept_unpublished == 0


def test_a_profile_an_admin_unpublished_stays_unpublished_after_reimport(admin_client):  # noqa: F811
    import_practitioners(csv_text(row()))
    db.session.commit()
    jane = practitioner("jane@example.org")
    response = submit_form(
        admin_client,
        "/admin/practitioners",
        {"reason": "Misleading claims."},
        post_url=f"/admin/practitioners/{jane.id}/unpublish",
    )
    assert response.status_code == 303
    assert practitioner("jane@example.org").unpublished_by == "admin"

    report = import_practitioners(csv_text(row(), row(name="Tom Ray", email="tom@example.org")))
    db.session.commit()
    assert not practitioner("jane@example.org").published
    assert practitioner("tom@example.org").published  # a fresh profile is published as before
    assert report.kept_unpublished == 1 and report.practitioners_created == 1
    assert report.practitioners_unchanged == 1  # nothing else about Jane changed
    day = practitioner("jane@example.org").unpublished_at.date().isoformat()
    assert report.decisions == [
        f"line 2: Jane Doe <jane@example.org>: left unpublished (unpublished by an administrator on {day})"
    ]


def test_an_unpublished_draft_nobody_decided_on_is_published_by_the_import_as_before(app):
    from tests.factories import PractitionerFactory

    PractitionerFactory(email="jane@example.org", display_name="Jane Doe", published=False)
    report = import_practitioners(csv_text(row()))
    assert practitioner("jane@example.org").published
    assert report.kept_unpublished == 0 and not report.decisions


def test_a_fresh_profile_imports_and_publishes(app):
    report = import_practitioners(csv_text(row()))
    p = practitioner("jane@example.org")
    assert p.published and p.imported_at is not None and p.unpublished_by is None
    assert (report.practitioners_created, report.kept_unpublished, report.kept_texts) == (1, 0, 0)


# --- Texts the practitioner edited are kept -----------------------------------------------


def test_text_edited_by_the_practitioner_is_kept_while_fields_not_edited_are_updated(client, practitioner_user):
    import_practitioners(csv_text(pat_row()))
    db.session.commit()
    login(client, practitioner_user)
    submit_form(client, "/dashboard/profile", {**EDITOR, "practice_name": "Calm Hands Studio"})
    assert set(practitioner(PAT).texts_edited) == {"practice_name"}

    # The same old file, with a new name and phone: the name was not edited, so it changes.
    report = import_practitioners(csv_text(pat_row(name="Patricia Practitioner", phone="303-555-0199")))
    db.session.commit()
    p = practitioner(PAT)
    assert p.practice_name == "Calm Hands Studio"
    assert p.display_name == "Patricia Practitioner" and p.phone == "303-555-0199"
    assert report.kept_texts == 1
    assert "1 text(s) edited by practitioners kept" in report.summary()
    [decision] = report.decisions
    assert "kept the practice name the practitioner edited on " in decision
    [updated] = [line for line in report.changes if "changed " in line]
    assert "display_name" in updated and "phone" in updated and "practice_name" not in updated

    # Importing it again keeps it again (the edit is still newer than anything the file said).
    again = import_practitioners(csv_text(pat_row(name="Patricia Practitioner", phone="303-555-0199")))
    assert practitioner(PAT).practice_name == "Calm Hands Studio" and again.kept_texts == 1

    # Once the file says what the practitioner wrote, later changes in the file apply again.
    caught_up = import_practitioners(csv_text(pat_row(name="Patricia Practitioner", practice_name="Calm Hands Studio")))
    assert caught_up.kept_texts == 0 and not practitioner(PAT).texts_edited
    import_practitioners(csv_text(pat_row(name="Patricia Practitioner", practice_name="Calm Hands Boulder")))
    assert practitioner(PAT).practice_name == "Calm Hands Boulder"


def test_a_text_the_practitioner_did_not_change_is_not_marked(client, practitioner_user):
    import_practitioners(csv_text(pat_row()))
    db.session.commit()
    login(client, practitioner_user)
    submit_form(client, "/dashboard/profile", {**EDITOR, "bio": "New about text."})
    assert not practitioner(PAT).texts_edited  # bio is not in the file
    report = import_practitioners(csv_text(pat_row(practice_name="Still Point Boulder")))
    assert practitioner(PAT).practice_name == "Still Point Boulder" and report.kept_texts == 0


def test_the_command_lists_the_decisions_with_verbose(runner, client, practitioner_user, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(csv_text(pat_row()), encoding="utf-8")
    assert runner.invoke(args=["import-practitioners", str(path)]).exit_code == 0
    login(client, practitioner_user)
    submit_form(client, "/dashboard/profile", {**EDITOR, "display_name": "Pat P."})
    submit_form(client, "/dashboard/", {}, post_url="/dashboard/unpublish")
    result = runner.invoke(args=["import-practitioners", str(path), "-v"])
    assert result.exit_code == 0, result.output
    assert "Pat P. <pat.practitioner@example.org>: kept the name the practitioner edited on" in result.output
    assert "left unpublished (unpublished by its owner on" in result.output
    assert "1 unpublished profile(s) left unpublished, 1 text(s) edited by practitioners kept." in result.output
    p = practitioner(PAT)
    assert p.display_name == "Pat P." and not p.published


# --- Streaming: the same guarantees on big files ------------------------------------------


def big_file(count: int, *extra: dict) -> str:
    rows = [row(name=f"Member {i}", email=f"member{i}@example.org", credentials="") for i in range(count)]
    return csv_text(*rows, *extra)


def test_a_big_file_is_written_in_batches_and_reimport_updates_without_duplicates(app):
    count = WRITE_BATCH * 2 + 7
    text = big_file(count)
    report = import_stream(io.StringIO(text, newline=""))
    db.session.commit()
    assert report.practitioners_created == count and counts()[:2] == (count, count)
    # Flushed batches leave the session: memory does not grow with the file.
    assert len(db.session.identity_map) < WRITE_BATCH * 5
    again = import_practitioners(text.replace("303-555-0100", "303-555-0111"))
    db.session.commit()
    assert again.practitioners_updated == count and counts()[:2] == (count, count)
    total = db.session.execute(select(func.count()).where(Practitioner.phone == "303-555-0111")).scalar_one()
    assert total == count


@pytest.mark.parametrize(
    "last, reason",
    [
        (row(email="last@example.org", conditions="gout"), "unknown condition 'gout'"),
        (row(name="Member 3", email="member3@example.org", phone="111"), "phone differs from line 5"),
    ],
)
def test_a_bad_row_at_the_end_of_a_big_file_stops_it_with_its_line_and_writes_nothing(
    app, runner, tmp_path, last, reason
):
    count = WRITE_BATCH * 2 + 7
    text = big_file(count, last)
    with pytest.raises(CsvImportError) as error:
        import_stream(io.StringIO(text, newline=""))
    assert error.value.line == count + 2 and reason in error.value.reason
    assert counts() == (0, 0, 0)
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["import-practitioners", str(path)])
    assert result.exit_code != 0
    assert f"line {count + 2}: {reason}" in result.output and "nothing was imported" in result.output
    assert counts() == (0, 0, 0)


def test_bytes_that_are_not_utf8_late_in_a_file_give_their_line(runner, tmp_path):
    text = big_file(300)
    path = tmp_path / "register.csv"
    path.write_bytes(text.encode() + "Zoë,zoe@example.org\n".encode("latin-1"))
    result = runner.invoke(args=["import-practitioners", str(path)])
    assert result.exit_code != 0 and "line 302: the file is not UTF-8" in result.output
    assert counts() == (0, 0, 0)


def test_a_dry_run_of_a_big_file_writes_nothing(app):
    report = import_stream(io.StringIO(big_file(WRITE_BATCH + 1), newline=""), dry_run=True)
    assert report.practitioners_created == WRITE_BATCH + 1 and report.dry_run
    assert counts() == (0, 0, 0)


# --- The migration ------------------------------------------------------------------------


def test_the_migration_records_profiles_an_admin_unpublished_before(worker_id):
    import tempfile

    from flask_migrate import downgrade, upgrade

    from directory import create_app
    from tests.conftest import base_config, drop_database, new_database

    url = new_database(f"{worker_id}_import_decisions")
    try:
        app = create_app(base_config(url, tempfile.mkdtemp()))
        with app.app_context():
            upgrade(revision="0011")
            with db.engine.begin() as conn:
                for email, published in (("off@example.org", False), ("draft@example.org", False)):
                    conn.execute(
                        sa.text(
                            "INSERT INTO practitioners (display_name, practice_name, bio, phone, website, email, "
                            "show_email, accepting_new_patients, languages, wheelchair_accessible, published, "
                            "suspended, suspension_reason, currency, created_at, updated_at) VALUES "
                            "('P', '', '', '', '', :email, false, true, '', false, :published, false, '', 'USD', "
                            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                        ),
                        {"email": email, "published": published},
                    )
                off = conn.execute(sa.text("SELECT id FROM practitioners WHERE email = 'off@example.org'")).scalar()
                for action in ("practitioner.published", "practitioner.unpublished"):
                    conn.execute(
                        sa.text(
                            "INSERT INTO audit_log (at, actor_email, action, object_type, object_id) "
                            "VALUES (CURRENT_TIMESTAMP, 'admin@example.org', :action, 'Practitioner', :id)"
                        ),
                        {"action": action, "id": str(off)},
                    )
            upgrade()
            with db.engine.connect() as conn:
                found = dict(conn.execute(sa.text("SELECT email, unpublished_by FROM practitioners")).all())
            assert found == {"off@example.org": "admin", "draft@example.org": None}
            downgrade(revision="0011")
            db.engine.dispose()
    finally:
        drop_database(url)
