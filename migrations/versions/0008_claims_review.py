"""Claims review and listings kept current: screened phrases, held changes, corrections, concerns

The screened phrases are seeded with the default list; practitioners gain the day they last
confirmed their details (and when they were last reminded to).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEARCH_INDEX = [
    "listed", "band", "longitude", "latitude", "condition_bits", "practitioner_id", "accepting", "verified_until",
    "languages", "fee_from", "session_minutes", "wheelchair", "gender", "verified_on", "sort_name", "confirmed_on",
]  # fmt: skip


def upgrade():
    phrases = op.create_table(
        "claim_phrases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phrase", sa.String(length=120), nullable=False),
        sa.Column("explanation", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phrase"),
    )
    op.create_table(
        "held_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("review_requested", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["practitioner_id"], ["practitioners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_held_changes_practitioner_id", "held_changes", ["practitioner_id"], unique=False)
    op.create_index("ix_held_changes_status_created", "held_changes", ["status", "created_at"], unique=False)
    op.add_column("practitioners", sa.Column("details_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("practitioners", sa.Column("confirmation_reminded_at", sa.DateTime(timezone=True), nullable=True))
    # sort=verified puts profiles unconfirmed for 15 months last: the search index carries the day.
    op.add_column("practice_locations", sa.Column("confirmed_on", sa.Date(), nullable=True))
    day = "CAST(p.created_at AS DATE)" if op.get_bind().dialect.name == "postgresql" else "date(p.created_at)"
    op.execute(
        f"UPDATE practice_locations SET confirmed_on = (SELECT {day} FROM practitioners p "  # noqa: S608 (constants)
        "WHERE p.id = practice_locations.practitioner_id)"
    )
    op.drop_index("ix_practice_locations_search", table_name="practice_locations")
    op.create_index("ix_practice_locations_search", "practice_locations", SEARCH_INDEX, unique=False)
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("suggestion", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("share_email", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["practitioner_id"], ["practitioners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_corrections_practitioner_id", "corrections", ["practitioner_id"], unique=False)
    op.create_index("ix_corrections_status_created", "corrections", ["status", "created_at"], unique=False)
    op.create_table(
        "concerns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("admin_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["practitioner_id"], ["practitioners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_concerns_practitioner_id", "concerns", ["practitioner_id"], unique=False)
    op.create_index("ix_concerns_closed_created", "concerns", ["closed_at", "created_at"], unique=False)
    # The default list, as it stands in the application (directory/claims/defaults.py).
    from directory.claims.defaults import DEFAULT_PHRASES

    op.bulk_insert(phrases, [{"phrase": p, "explanation": e} for p, e in DEFAULT_PHRASES])


def downgrade():
    op.drop_index("ix_practice_locations_search", table_name="practice_locations")
    op.drop_column("practice_locations", "confirmed_on")
    op.create_index("ix_practice_locations_search", "practice_locations", SEARCH_INDEX[:-1], unique=False)
    op.drop_index("ix_concerns_closed_created", table_name="concerns")
    op.drop_index("ix_concerns_practitioner_id", table_name="concerns")
    op.drop_table("concerns")
    op.drop_index("ix_corrections_status_created", table_name="corrections")
    op.drop_index("ix_corrections_practitioner_id", table_name="corrections")
    op.drop_table("corrections")
    op.drop_column("practitioners", "confirmation_reminded_at")
    op.drop_column("practitioners", "details_confirmed_at")
    op.drop_index("ix_held_changes_status_created", table_name="held_changes")
    op.drop_index("ix_held_changes_practitioner_id", table_name="held_changes")
    op.drop_table("held_changes")
    op.drop_table("claim_phrases")
