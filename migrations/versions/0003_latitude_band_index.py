"""Search index by latitude band, with every search filter in it

The band is a generated column, floor((latitude + 90) * 10): 0.1° of latitude each. A circle's
candidates are then a few short index ranges (one longitude range per band) instead of every
location in the circle's latitude range, all around the world. The same covering B-tree serves
PostgreSQL (index-only scans), where it beat the GiST earth_box index, which goes. Each
location also carries copies of its practitioner's accepting_new_patients, languages
(lowercased) and the last day one of their credentials counts as verified (kept in step by
the application's flush hook), so that those filters need no join either. Condition bits become 64-bit on PostgreSQL, as the
taxonomy allows 63 conditions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# latitude + 90 is never negative, so SQLite's CAST (which truncates) is floor; PostgreSQL's
# CAST rounds, hence floor() there. The application's copy is directory.models.latitude_band.
BAND_SQL = {
    "sqlite": "CAST((latitude + 90) * 10 AS INTEGER)",
    "postgresql": "(floor((latitude + 90) * 10))::integer",
}


SEARCH_INDEX = ["listed", "band", "longitude", "latitude", "condition_bits", "practitioner_id", "accepting",
                "verified_until", "languages"]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column("practice_locations", sa.Column("accepting", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("practice_locations", sa.Column("verified_until", sa.Date(), nullable=True))
    op.add_column("practice_locations", sa.Column("languages", sa.String(300), nullable=False, server_default=""))
    op.execute(
        "UPDATE practice_locations SET accepting = (SELECT p.accepting_new_patients FROM practitioners p "
        "WHERE p.id = practice_locations.practitioner_id), "
        "languages = (SELECT lower(p.languages) FROM practitioners p WHERE p.id = practice_locations.practitioner_id), "
        "verified_until = (SELECT max(coalesce(c.expires_on, '9999-12-31')) FROM certifications c "
        "WHERE c.practitioner_id = practice_locations.practitioner_id AND c.status = 'verified')"
    )
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE practice_locations ADD COLUMN band integer GENERATED ALWAYS AS ({BAND_SQL[dialect]}) STORED")
        op.execute("ALTER TABLE practice_locations ALTER COLUMN condition_bits TYPE bigint")
        op.execute("DROP INDEX IF EXISTS ix_practice_locations_earth")
    else:
        op.execute(f"ALTER TABLE practice_locations ADD COLUMN band INTEGER GENERATED ALWAYS AS ({BAND_SQL['sqlite']}) VIRTUAL")
    op.drop_index("ix_practice_locations_search", table_name="practice_locations")
    op.create_index("ix_practice_locations_search", "practice_locations", SEARCH_INDEX, unique=False)


def downgrade():
    op.drop_index("ix_practice_locations_search", table_name="practice_locations")
    op.execute("ALTER TABLE practice_locations DROP COLUMN band")
    op.execute("ALTER TABLE practice_locations DROP COLUMN verified_until")
    op.execute("ALTER TABLE practice_locations DROP COLUMN accepting")
    op.execute("ALTER TABLE practice_locations DROP COLUMN languages")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE practice_locations ALTER COLUMN condition_bits TYPE integer")
        op.execute(
            "CREATE INDEX ix_practice_locations_earth ON practice_locations "
            "USING gist (ll_to_earth(latitude, longitude))"
        )
    op.create_index(
        "ix_practice_locations_search",
        "practice_locations",
        ["listed", "latitude", "longitude", "condition_bits", "practitioner_id"],
        unique=False,
    )
