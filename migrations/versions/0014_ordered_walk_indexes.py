"""Indexes in the order of sort=name and sort=verified, walked for a crowded circle

A search sorted by name or by verification in a circle holding more practitioners than the
count goes to reads one of these from its first entry, in the order's own order, until the
page's practitioners are found, instead of ranking every location of the circle. Each carries
the coordinates and every filter's copy, so the walk reads no table row.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# After the order's column: the practitioner (so SQLite never skip-scans to a latitude range),
# the coordinates and the filters' copies, as directory.models.practitioners.WALK_INDEX_COLUMNS.
WALK = [
    "practitioner_id",
    "latitude",
    "longitude",
    "condition_bits",
    "accepting",
    "verified_until",
    "languages",
    "fee_from",
    "session_minutes",
    "wheelchair",
    "gender",
]


def upgrade():
    op.create_index("ix_practice_locations_by_name", "practice_locations", ["listed", "sort_name", *WALK])
    op.create_index(
        "ix_practice_locations_by_verified", "practice_locations", ["listed", "verified_on", *WALK, "confirmed_on"]
    )


def downgrade():
    op.drop_index("ix_practice_locations_by_verified", table_name="practice_locations")
    op.drop_index("ix_practice_locations_by_name", table_name="practice_locations")
