"""Demo data: realistic, deterministic practitioners around real towns."""

from __future__ import annotations

from sqlalchemy import func, select

from directory.demo import SHOWCASE, seed_demo
from directory.extensions import db
from directory.languages import index_value
from directory.models import (
    Certification,
    PracticeLocation,
    Practitioner,
    ProfessionalLicense,
    Training,
    VerificationStatus,
)
from tests.conftest import reset_database


def snapshot() -> list[tuple]:
    """What a visitor would see of the demo data, without timestamps."""
    db.session.expire_all()
    rows = db.session.execute(
        select(
            Practitioner.id, Practitioner.email, Practitioner.display_name, Practitioner.practice_name,
            Practitioner.languages, Practitioner.fee_min, Practitioner.session_minutes,
            PracticeLocation.city, PracticeLocation.country, PracticeLocation.latitude, PracticeLocation.longitude,
            PracticeLocation.condition_bits,
        ).join(PracticeLocation).order_by(PracticeLocation.id)
    )  # fmt: skip
    return [tuple(r) for r in rows]


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_seed_demo_adds_exactly_count_practitioners_around_real_towns(app):
    assert seed_demo(count=300, seed=3) == 300
    assert count(Practitioner) == 300
    assert count(PracticeLocation) >= 300
    countries = {c for (c,) in db.session.execute(select(PracticeLocation.country).distinct())}
    assert "US" in countries and len(countries) >= 4
    statuses = {s for (s,) in db.session.execute(select(Certification.status).distinct())}
    assert {VerificationStatus.VERIFIED, VerificationStatus.PENDING} <= statuses
    # Some verified credentials have expired: the site must show them as not verified.
    expired = db.session.execute(
        select(func.count()).where(
            Certification.status == VerificationStatus.VERIFIED, Certification.expires_on < func.current_date()
        )
    ).scalar_one()
    assert expired > 0


def test_search_index_columns_of_bulk_seeded_locations_match_their_practitioner(app):
    seed_demo(count=200, seed=4)
    for p in db.session.execute(select(Practitioner)).scalars():
        assert all(loc.condition_bits == p.condition_bits for loc in p.locations)
        assert all(loc.listed == p.is_listed for loc in p.locations)
        assert all(loc.accepting == p.accepting_new_patients for loc in p.locations)
        assert all(loc.verified_until == p.verified_until() for loc in p.locations)
        assert all(loc.languages == index_value(p.language_list) for loc in p.locations)
    # Both kinds are there: verified ones, and ones without a verified credential.
    copies = {loc.verified_until is None for loc in db.session.execute(select(PracticeLocation)).scalars()}
    assert copies == {True, False}


def test_bulk_seeded_practitioners_are_found_by_search(client):
    seed_demo(count=400, seed=5)
    london = client.get("/api/v1/practitioners?near=London,+UK&radius_km=100").get_json()
    listed_in_gb = db.session.execute(
        select(func.count(Practitioner.id.distinct()))
        .join(PracticeLocation)
        .where(PracticeLocation.city == "London", Practitioner.published.is_(True))
    ).scalar_one()
    assert listed_in_gb > 0 and london["count"] >= listed_in_gb


def test_seed_demo_is_deterministic(app):
    seed_demo(count=150, seed=11)
    first = snapshot()
    db.session.rollback()  # end the read transaction, or PostgreSQL's TRUNCATE waits for it
    reset_database()
    seed_demo(count=150, seed=11)
    assert snapshot() == first
    db.session.rollback()  # end the read transaction, or PostgreSQL's TRUNCATE waits for it
    reset_database()
    seed_demo(count=150, seed=12)
    assert snapshot() != first


def rows_of_generated_practitioners(model) -> int:
    """How many rows of the model belong to generated (not showcase) practitioners."""
    generated = select(Practitioner.id).where(Practitioner.email.not_in([s["email"] for s in SHOWCASE]))
    query = select(func.count()).select_from(model).where(model.practitioner_id.in_(generated))
    return db.session.execute(query).scalar_one()


def test_seeding_without_details_leaves_out_trainings_and_licences_but_not_credentials(app):
    """The search benchmark seeds without details: generated practitioners get no trainings or licences."""
    seed_demo(count=300, seed=6, details=False)
    assert count(Practitioner) == 300
    assert rows_of_generated_practitioners(Training) == 0
    assert rows_of_generated_practitioners(ProfessionalLicense) == 0
    assert rows_of_generated_practitioners(Certification) > 0
    db.session.rollback()  # end the read transaction, or PostgreSQL's TRUNCATE waits for it
    reset_database()
    seed_demo(count=300, seed=6)
    assert rows_of_generated_practitioners(Training) > 200
    assert rows_of_generated_practitioners(ProfessionalLicense) > 100


def test_showcase_practitioners_are_recognisable(client):
    seed_demo(count=50, seed=1)
    boulder = client.get("/api/v1/practitioners?near=80302&radius_km=10&condition=tmj&verified=1").get_json()
    assert boulder["results"][0]["name"] == SHOWCASE[0]["display_name"]
    new_york = client.get("/api/v1/practitioners?near=10001&radius_km=5&verified=1").get_json()
    assert "Sam Okafor, LMT, RCST" in [r["name"] for r in new_york["results"]]
    profile = client.get(boulder["results"][0]["url"].replace("http://localhost", ""))
    assert profile.status_code == 200 and "Upledger" in profile.get_data(as_text=True)


def test_seed_demo_command_with_if_empty_seeds_only_an_empty_directory(runner):
    result = runner.invoke(args=["seed-demo", "--count", "40", "--seed", "2", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Added 40 demo practitioners" in result.output
    again = runner.invoke(args=["seed-demo", "--count", "40", "--if-empty"])
    assert again.exit_code == 0 and "no demo data added" in again.output
    assert count(Practitioner) == 40
    more = runner.invoke(args=["seed-demo", "--count", "10", "--seed", "9"])
    assert more.exit_code == 0 and count(Practitioner) == 50


def test_seed_demo_command_rejects_a_negative_count(runner):
    result = runner.invoke(args=["seed-demo", "--count", "-1"])
    assert result.exit_code != 0
