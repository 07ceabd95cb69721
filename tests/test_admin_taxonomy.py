"""Admins edit the condition taxonomy (add, rename, merge) and the registry of certifying bodies."""

from __future__ import annotations

import sqlalchemy as sa

from directory.admin import taxonomy
from directory.extensions import db
from directory.models import CertifyingBody, Condition, Credential, PracticeLocation, Referral
from tests.admin_support import admin_client, audit_entries, fresh  # noqa: F401
from tests.conftest import submit_form
from tests.factories import PractitionerFactory, condition


def _condition_by_slug(slug: str) -> Condition | None:
    db.session.expire_all()
    return db.session.execute(db.select(Condition).filter_by(slug=slug)).scalar_one_or_none()


def test_admin_adds_a_condition_with_the_next_free_bit(client, admin_client):  # noqa: F811
    used = set(db.session.execute(db.select(Condition.bit)).scalars())
    response = submit_form(admin_client, "/admin/conditions", {"name": "Infant colic", "slug": ""})
    assert response.status_code == 303
    colic = _condition_by_slug("infant-colic")
    assert colic.name == "Infant colic" and colic.bit == min(set(range(63)) - used)
    [entry] = audit_entries("condition.created")
    assert entry.after == {"slug": "infant-colic", "name": "Infant colic", "bit": colic.bit}
    # Patients can search by it at once.
    assert "Infant colic" in client.get("/").get_data(as_text=True)


def test_adding_a_duplicate_condition_is_refused_with_a_field_error(admin_client):  # noqa: F811
    response = submit_form(admin_client, "/admin/conditions", {"name": "fibromyalgia", "slug": ""})
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    response = submit_form(admin_client, "/admin/conditions", {"name": "Bad slug", "slug": "Bad Slug!"})
    assert response.status_code == 400 and "lower-case letters" in response.get_data(as_text=True)
    assert audit_entries() == []


def test_no_condition_can_be_added_once_all_63_bits_are_used(app, admin_user):
    used = set(db.session.execute(db.select(Condition.bit)).scalars())
    for bit in sorted(set(range(63)) - used):
        db.session.add(Condition(slug=f"c{bit}", name=f"C {bit}", bit=bit))
    db.session.commit()
    try:
        taxonomy.add_condition(admin_user, "One too many")
    except taxonomy.TaxonomyError as error:
        assert "63" in str(error)
    else:  # pragma: no cover
        raise AssertionError("a 64th condition was added")


def test_admin_renames_a_condition_keeping_its_slug(admin_client):  # noqa: F811
    tmj = condition("tmj")
    response = submit_form(
        admin_client, "/admin/conditions", {"name": "Jaw (TMJ) problems"}, post_url=f"/admin/conditions/{tmj.id}/rename"
    )
    assert response.status_code == 303
    assert _condition_by_slug("tmj").name == "Jaw (TMJ) problems"
    [entry] = audit_entries("condition.renamed")
    assert entry.before == {"name": "Temporomandibular joint (TMJ) disorders"}
    assert entry.after == {"name": "Jaw (TMJ) problems"}


def test_renaming_to_an_existing_name_is_refused(admin_client):  # noqa: F811
    tmj = condition("tmj")
    response = submit_form(
        admin_client, "/admin/conditions", {"name": "Fibromyalgia"}, post_url=f"/admin/conditions/{tmj.id}/rename"
    )
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


def _referral(*slugs):
    referral = Referral(patient_name="P. Atient", reason="Jaw pain", status="requested")
    referral.conditions = [condition(s) for s in slugs]
    db.session.add(referral)
    db.session.commit()
    return referral


def test_merging_two_conditions_keeps_every_practitioners_and_referrals_choice(client, admin_client):  # noqa: F811
    near = {"latitude": 40.02, "longitude": -105.27}
    only_stress = PractitionerFactory(display_name="Stella Stress", conditions=["stress-tension"], **near)
    both = PractitionerFactory(display_name="Bo Both", conditions=["stress-tension", "migraine-headache"], **near)
    only_target = PractitionerFactory(display_name="Mia Migraine", conditions=["migraine-headache"], **near)
    unrelated = PractitionerFactory(display_name="Tom Tmj", conditions=["tmj"], **near)
    ref_source = _referral("stress-tension")
    ref_both = _referral("stress-tension", "migraine-headache")
    source, target = condition("stress-tension"), condition("migraine-headache")
    source_id, source_bit = source.id, source.bit

    response = submit_form(
        admin_client,
        "/admin/conditions",
        {"target": str(target.id)},
        post_url=f"/admin/conditions/{source.id}/merge",
    )
    assert response.status_code == 303
    assert _condition_by_slug("stress-tension") is None
    for p in (only_stress, both, only_target):
        assert [c.slug for c in fresh(p).conditions] == ["migraine-headache"], p.display_name
    assert [c.slug for c in fresh(unrelated).conditions] == ["tmj"]
    for r in (ref_source, ref_both):
        assert [c.slug for c in fresh(r).conditions] == ["migraine-headache"]
    # The search index columns follow: no location keeps the removed bit, the merged ones carry the target's.
    locations = db.session.execute(db.select(PracticeLocation)).scalars().all()
    assert all(not loc.condition_bits & (1 << source_bit) for loc in locations)
    html = client.get("/search?near=80302&radius=25&condition=migraine-headache").get_data(as_text=True)
    for name in ("Stella Stress", "Bo Both", "Mia Migraine"):
        assert name in html
    assert "Tom Tmj" not in html
    [entry] = audit_entries("condition.merged")
    assert entry.object_id == str(source_id) and entry.before["slug"] == "stress-tension"
    assert entry.after["merged_into"] == "migraine-headache"
    assert entry.after["practitioners"] == 2 and entry.after["referrals"] == 2


def test_a_condition_cannot_be_merged_into_itself(admin_client):  # noqa: F811
    tmj = condition("tmj")
    response = submit_form(
        admin_client, "/admin/conditions", {"target": str(tmj.id)}, post_url=f"/admin/conditions/{tmj.id}/merge"
    )
    assert response.status_code == 400
    assert _condition_by_slug("tmj") is not None


def test_the_freed_bit_is_reused_by_the_next_condition(admin_user):
    source, target = condition("fibromyalgia"), condition("tmj")
    freed = source.bit
    taxonomy.merge_condition(source, target, admin_user)
    db.session.commit()
    assert taxonomy.add_condition(admin_user, "Whiplash").bit == freed


def test_admin_edits_a_certifying_body_and_patients_see_it(client, admin_client):  # noqa: F811
    upledger = db.session.execute(db.select(CertifyingBody).filter_by(slug="upledger")).scalar_one()
    response = submit_form(
        admin_client,
        f"/admin/bodies/{upledger.id}",
        {
            "slug": "upledger",
            "name": "Upledger Institute",
            "website": "https://www.upledger.com/",
            "description": "Certifies at two levels.",
        },
    )
    assert response.status_code == 303
    assert fresh(upledger).name == "Upledger Institute"
    [entry] = audit_entries("body.updated")
    assert entry.before["name"] == "Upledger Institute International" and entry.after["name"] == "Upledger Institute"
    assert "Certifies at two levels." in client.get("/how-we-verify").get_data(as_text=True)


def test_admin_adds_a_body_and_a_credential_level_with_its_requirements(client, admin_client):  # noqa: F811
    response = submit_form(
        admin_client,
        "/admin/bodies/new",
        {"slug": "iabt", "name": "Intl. Association of Biodynamic Trainings", "website": "", "description": ""},
    )
    assert response.status_code == 303
    iabt = db.session.execute(db.select(CertifyingBody).filter_by(slug="iabt")).scalar_one()
    response = submit_form(
        admin_client,
        f"/admin/bodies/{iabt.id}/credentials/new",
        {"code": "BCST", "name": "Biodynamic Craniosacral Therapist", "requirements": "700 hours over two years."},
    )
    assert response.status_code == 303
    level = db.session.execute(db.select(Credential).filter_by(code="BCST")).scalar_one()
    response = submit_form(
        admin_client,
        f"/admin/bodies/{iabt.id}/credentials/{level.id}",
        {"code": "BCST", "name": "Biodynamic Craniosacral Therapist", "requirements": "750 hours over two years."},
    )
    assert response.status_code == 303
    assert fresh(level).requirements == "750 hours over two years."
    assert [e.action for e in audit_entries()] == ["body.created", "credential.created", "credential.updated"]
    html = client.get("/how-we-verify").get_data(as_text=True)
    assert "Intl. Association of Biodynamic Trainings" in html and "750 hours over two years." in html


def test_body_form_refuses_a_taken_slug_and_a_bad_website(admin_client):  # noqa: F811
    response = submit_form(
        admin_client,
        "/admin/bodies/new",
        {"slug": "upledger", "name": "Copy", "website": "not a url", "description": ""},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Enter a full URL." in html
    response = submit_form(
        admin_client, "/admin/bodies/new", {"slug": "upledger", "name": "Copy", "website": "", "description": ""}
    )
    assert response.status_code == 400 and "already uses the slug" in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count(CertifyingBody.id))).scalar() == 3


def test_credential_levels_of_one_body_are_not_edited_through_another(admin_client):  # noqa: F811
    bcta = db.session.execute(db.select(CertifyingBody).filter_by(slug="bcta-na")).scalar_one()
    upledger_level = db.session.execute(db.select(Credential).filter_by(code="CST-T")).scalar_one()
    assert admin_client.get(f"/admin/bodies/{bcta.id}/credentials/{upledger_level.id}").status_code == 404


def test_duplicate_credential_code_in_a_body_is_refused(admin_client):  # noqa: F811
    upledger = db.session.execute(db.select(CertifyingBody).filter_by(slug="upledger")).scalar_one()
    response = submit_form(
        admin_client, f"/admin/bodies/{upledger.id}/credentials/new", {"code": "cst-t", "name": "", "requirements": ""}
    )
    assert response.status_code == 400 and "already awards" in response.get_data(as_text=True)
