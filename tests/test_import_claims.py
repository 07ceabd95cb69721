"""The CSV import sends the texts patients read through the same claims screening as the editor.

The file's patient-visible texts are the name shown and the practice name (the CSV format has
no bio, location name or training columns): a flagged one is held for review like a form edit.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from directory.claims import service
from directory.csv_io import import_practitioners
from directory.csv_io import importer as importer_module
from directory.extensions import db
from directory.models import HeldChange, ReviewStatus
from tests.admin_support import admin_client, audit_entries, outbox  # noqa: F401
from tests.conftest import csrf_token_from, login, submit_form
from tests.test_csv import csv_text, practitioner, row
from tests.test_import_decisions import EDITOR

FLAGGED = "Miracle Cures Craniosacral"
HELD_LINE = (
    "line 2: Jane Doe <jane@example.org>: held for review (claims): "
    "practice name 'Miracle Cures Craniosacral' (miracle, cure)"
)


def held_changes() -> list[HeldChange]:
    """Every held change, pending or decided, as the database has it."""
    db.session.expire_all()
    return db.session.execute(select(HeldChange).order_by(HeldChange.id)).scalars().all()


def public_page(app, practitioner_id: int):
    """The public profile as an anonymous visitor sees it."""
    return app.test_client().get(f"/practitioners/{practitioner_id}")


def approve(admin_client, change: HeldChange):  # noqa: F811
    """The admin opens the held change (the flagged words marked) and approves it."""
    response = admin_client.get(f"/admin/reviews/{change.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<mark class="claim-flag">' in page
    return admin_client.post(f"/admin/reviews/{change.id}/approve", data={"csrf_token": csrf_token_from(page)})


# --- New profiles -------------------------------------------------------------------------


def test_a_new_profile_with_a_flagged_practice_name_waits_unpublished_until_an_admin_approves(
    app,
    admin_client,  # noqa: F811
):
    report = import_practitioners(csv_text(row(practice_name=FLAGGED)))
    db.session.commit()
    jane = practitioner("jane@example.org")
    assert not jane.published and jane.practice_name == "" and jane.display_name == "Jane Doe"
    assert jane.texts_edited is None  # the import's text is not the practitioner's edit
    [change] = held_changes()
    assert change.practitioner_id == jane.id and change.values == {"practice_name": FLAGGED}
    assert report.practitioners_created == 1 and report.held_for_review == 1
    assert report.held == [HELD_LINE]
    assert "unpublished until its held text is reviewed" in report.changes[0]
    assert public_page(app, jane.id).status_code == 404
    assert outbox("jane@example.org") == []  # holding tells nobody, as for a form edit

    listing = admin_client.get("/admin/reviews").get_data(as_text=True)
    assert "Jane Doe" in listing and "miracle, cure" in listing
    assert approve(admin_client, change).status_code == 303

    jane = practitioner("jane@example.org")
    assert jane.published and jane.unpublished_by is None and jane.practice_name == FLAGGED
    page = public_page(app, jane.id)
    assert page.status_code == 200 and FLAGGED in page.get_data(as_text=True)
    [mail] = outbox("jane@example.org")
    assert mail.subject == "Your profile text was approved"
    for body in (mail.text_body, mail.html_body):
        assert "it is now published and appears in search results" in body
    assert [e.action for e in audit_entries() if e.action.startswith(("claims.", "practitioner."))] == [
        "claims.held",
        "claims.approved",
        "practitioner.published",
    ]


def test_a_flagged_name_is_not_written_on_a_new_profile_and_the_report_names_it_from_the_file(
    app,
    admin_client,  # noqa: F811
):
    report = import_practitioners(csv_text(row(name="Dr. Miracle")))
    db.session.commit()
    jane = practitioner("jane@example.org")
    assert jane.display_name == "" and not jane.published
    assert held_changes()[0].values == {"display_name": "Dr. Miracle"}
    assert report.held == [
        "line 2: Dr. Miracle <jane@example.org>: held for review (claims): name shown 'Dr. Miracle' (miracle)"
    ]
    # The review queue links the held change by the profile's email while it has no name shown.
    queue = admin_client.get("/admin/reviews").get_data(as_text=True)
    assert ">jane@example.org</a>" in queue


def test_a_rejected_new_profile_stays_unpublished_until_a_file_brings_a_clean_text(app, admin_client):  # noqa: F811
    import_practitioners(csv_text(row(practice_name=FLAGGED)))
    db.session.commit()
    [change] = held_changes()
    page = admin_client.get(f"/admin/reviews/{change.id}").get_data(as_text=True)
    response = admin_client.post(
        f"/admin/reviews/{change.id}/reject",
        data={"csrf_token": csrf_token_from(page), "reason": "Please do not promise cures."},
    )
    assert response.status_code == 303
    jane = practitioner("jane@example.org")
    assert not jane.published and jane.practice_name == ""

    report = import_practitioners(csv_text(row(practice_name="Still Point")))
    db.session.commit()
    jane = practitioner("jane@example.org")
    assert jane.published and jane.practice_name == "Still Point" and jane.unpublished_by is None
    assert report.held_for_review == 0 and service.pending_change(jane) is None


# --- Existing profiles --------------------------------------------------------------------


def test_a_flagged_reimport_keeps_the_approved_text_public_and_holds_the_change(app, admin_client):  # noqa: F811
    import_practitioners(csv_text(row()))
    db.session.commit()
    jane = practitioner("jane@example.org")

    report = import_practitioners(csv_text(row(practice_name=FLAGGED, phone="303-555-0199")))
    db.session.commit()
    jane = practitioner("jane@example.org")
    assert jane.published and jane.practice_name == "Still Point" and jane.phone == "303-555-0199"
    html = public_page(app, jane.id).get_data(as_text=True)
    assert "Still Point" in html and "Miracle" not in html
    change = service.pending_change(jane)
    assert change.values == {"practice_name": FLAGGED} and change.status == ReviewStatus.PENDING
    assert service.review_summary(jane)["status"] == "pending"
    assert report.practitioners_updated == 1 and report.held_for_review == 1
    assert report.changes[0] == "line 2: Jane Doe <jane@example.org>: changed phone; text held for review"
    assert report.held == [HELD_LINE] and HELD_LINE in report.changes
    assert "Jane Doe" in admin_client.get("/admin/reviews").get_data(as_text=True)

    # The same file again: still held and reported, but nothing new is held or recorded.
    again = import_practitioners(csv_text(row(practice_name=FLAGGED, phone="303-555-0199")))
    db.session.commit()
    assert again.practitioners_unchanged == 1 and again.held == [HELD_LINE]
    assert len(held_changes()) == 1 and len(audit_entries("claims.held")) == 1

    assert approve(admin_client, service.pending_change(practitioner("jane@example.org"))).status_code == 303
    assert FLAGGED in public_page(app, jane.id).get_data(as_text=True)


def test_an_unflagged_reimport_is_live_at_once_and_withdraws_what_an_earlier_file_held(app):
    import_practitioners(csv_text(row()))
    import_practitioners(csv_text(row(practice_name=FLAGGED)))
    db.session.commit()
    assert len(held_changes()) == 1

    report = import_practitioners(csv_text(row(practice_name="Calm Hands Boulder")))
    db.session.commit()
    jane = practitioner("jane@example.org")
    assert jane.practice_name == "Calm Hands Boulder" and jane.published
    assert "Calm Hands Boulder" in public_page(app, jane.id).get_data(as_text=True)
    assert held_changes() == [] and report.held_for_review == 0 and report.held == []
    assert report.changes == ["line 2: Jane Doe <jane@example.org>: changed practice_name"]
    assert "0 profile(s) held for review (claims)." in report.summary()


def test_the_practitioners_own_held_edit_survives_a_reimport_of_the_old_file(client, practitioner_user):
    pat = {"name": "Pat Practitioner", "email": "pat.practitioner@example.org"}
    import_practitioners(csv_text(row(**pat)))
    db.session.commit()
    login(client, practitioner_user)
    editor = {**EDITOR, "practice_name": "Cures Guaranteed", "bio": ""}
    submit_form(client, "/dashboard/profile", editor)
    mine = service.pending_change(practitioner(pat["email"]))
    assert mine.values == {"practice_name": "Cures Guaranteed"}

    # The old file says what the public sees: the practitioner's held text is theirs, and stays held.
    report = import_practitioners(csv_text(row(**pat)))
    db.session.commit()
    p = practitioner(pat["email"])
    assert p.practice_name == "Still Point" and service.pending_change(p).values == {
        "practice_name": "Cures Guaranteed"
    }
    assert report.kept_texts == 1 and report.held_for_review == 0


# --- The report and the command -----------------------------------------------------------


def test_a_dry_run_holds_nothing_and_says_what_would_be_held(app, runner, tmp_path):
    import_practitioners(csv_text(row()))
    db.session.commit()
    text = csv_text(
        row(practice_name=FLAGGED),
        row(name="Tom Ray", email="tom@example.org", practice_name="Guaranteed results"),
    )
    report = import_practitioners(text, dry_run=True)
    assert report.held_for_review == 2 and held_changes() == []
    assert practitioner("jane@example.org").practice_name == "Still Point"
    assert report.held == [
        HELD_LINE,
        "line 3: Tom Ray <tom@example.org>: held for review (claims): practice name 'Guaranteed results' (guarantee)",
    ]
    assert report.summary().endswith("2 profile(s) would be held for review (claims).")

    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["import-practitioners", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert HELD_LINE in result.output and "2 profile(s) would be held for review (claims)." in result.output
    assert held_changes() == [] and db.session.execute(select(func.count(HeldChange.id))).scalar_one() == 0


def test_the_command_names_the_held_profiles_without_verbose(app, runner, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(csv_text(row(practice_name=FLAGGED), row(name="Tom Ray", email="tom@example.org")), "utf-8")
    result = runner.invoke(args=["import-practitioners", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == HELD_LINE
    assert lines[-1].startswith("Imported 2 rows: practitioners 2 created")
    assert lines[-1].endswith("1 profile(s) held for review (claims).")
    assert "Tom Ray" not in result.output  # clean rows are listed with -v only, as before
    assert not practitioner("jane@example.org").published and practitioner("tom@example.org").published


def test_the_command_lists_only_the_first_held_profiles_without_verbose(app, runner, tmp_path, monkeypatch):
    from directory import commands

    monkeypatch.setattr(commands, "HELD_LINES_SHOWN", 2)
    rows = [row(name=f"Member {i}", email=f"m{i}@example.org", practice_name=FLAGGED) for i in range(3)]
    path = tmp_path / "register.csv"
    path.write_text(csv_text(*rows), "utf-8")
    result = runner.invoke(args=["import-practitioners", str(path)])
    assert result.exit_code == 0, result.output
    assert "Member 1 <m1@example.org>: held for review" in result.output
    assert "Member 2" not in result.output and "... and 1 more held for review (-v lists them)" in result.output
    verbose = runner.invoke(args=["import-practitioners", str(path), "-v", "--dry-run"])
    assert "Member 2 <m2@example.org>: held for review" in verbose.output


# --- Cost: nothing flagged, no query per row ----------------------------------------------


@pytest.mark.parametrize("flagged", [False, True])
def test_screening_reads_the_phrases_once_per_file_and_held_changes_once_per_batch(app, monkeypatch, flagged):
    monkeypatch.setattr(importer_module, "WRITE_BATCH", 4)
    rows = [row(name=f"Member {i}", email=f"m{i}@example.org") for i in range(12)]
    import_practitioners(csv_text(*rows))
    db.session.commit()
    if flagged:
        rows[5] = {**rows[5], "practice_name": FLAGGED}
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        report = import_practitioners(csv_text(*[{**r, "phone": "303-555-0199"} for r in rows]))
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert report.practitioners_updated == 12 and report.held_for_review == int(flagged)
    phrases = [s for s in statements if "FROM claim_phrases" in s]
    held = [s for s in statements if "FROM held_changes" in s]
    assert len(phrases) == 1
    assert len(held) == 3  # one per batch of 4, however many rows
