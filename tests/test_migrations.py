"""Every schema change goes through migrations: down to nothing and up again, with data kept."""

from __future__ import annotations

import tempfile

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from directory import create_app
from directory.extensions import db
from directory.models.practitioners import band_of
from tests.conftest import base_config, drop_database, new_database


def test_migrations_go_down_to_nothing_and_up_again(worker_id):
    url = new_database(f"{worker_id}_migrations")
    try:
        app = create_app(base_config(url, tempfile.mkdtemp()))
        with app.app_context():
            upgrade()
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO practitioners (display_name, practice_name, bio, phone, website, email, "
                        "show_email, accepting_new_patients, languages, wheelchair_accessible, published, "
                        "suspended, suspension_reason, currency, created_at, updated_at) VALUES "
                        "('Kept', '', '', '', '', ' Kept@Example.ORG', false, true, 'English', false, true, "
                        "false, '', 'USD', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    )
                )
                pid = conn.execute(sa.text("SELECT id FROM practitioners")).scalar_one()
                conn.execute(
                    sa.text(
                        "INSERT INTO practice_locations (practitioner_id, label, address, city, region, postal_code, "
                        "country, latitude, longitude, condition_bits, listed) "
                        "VALUES (:pid, '', '', 'Oslo', '', '', 'NO', 59.91, 10.75, 8, true)"
                    ),
                    {"pid": pid},
                )
            downgrade(revision="0002")
            upgrade()
            with db.engine.connect() as conn:
                band = conn.execute(sa.text("SELECT band FROM practice_locations")).scalar_one()
                email = conn.execute(sa.text("SELECT email FROM practitioners")).scalar_one()
            assert band == band_of(59.91)
            with db.engine.connect() as conn:
                languages = conn.execute(sa.text("SELECT languages FROM practice_locations")).scalar_one()
            # 0007: the index keeps languages as subtags, so any spelling of a language finds them.
            assert languages == "|en|"
            # 0005: emails written before the lower-case rule are brought in line.
            assert email == "kept@example.org"
            downgrade(revision="base")
            with db.engine.connect() as conn:
                assert sa.inspect(conn).get_table_names() == ["alembic_version"]
            upgrade()
            with db.engine.connect() as conn:
                slugs = conn.execute(sa.text("SELECT slug FROM conditions ORDER BY bit")).scalars().all()
            assert slugs == ["migraine-headache", "neck-back-pain", "fibromyalgia", "tmj", "stress-tension"]
            db.engine.dispose()
    finally:
        drop_database(url)


def test_the_migrations_build_exactly_the_schema_the_models_describe(database_url):
    """Autogenerate finds nothing to do: every model change has its migration, and no more."""
    app = create_app(base_config(database_url, tempfile.mkdtemp()))
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
