"""Referrals close the loop: appointments in local time, holds, no-shows, failures, outcomes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REFERRAL_COLUMNS = (
    ("appointment_time_zone", sa.String(length=64), ""),
    ("appointment_place", sa.String(length=200), ""),
    ("outcome_return_reason", sa.Text(), ""),
    ("held_from", sa.String(length=20), ""),
    ("status_reason", sa.String(length=20), ""),
    ("status_note", sa.Text(), ""),
)
OPTIONAL_REFERRAL_COLUMNS = (
    ("outcome_sessions", sa.Integer()),
    ("outcome_last_session_on", sa.Date()),
    ("outcome_pain_start", sa.Integer()),
    ("outcome_pain_end", sa.Integer()),
    ("outcome_pgic", sa.Integer()),
    ("outcome_return_to_referrer", sa.Boolean()),
)


def upgrade():
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("appointment_location_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_referrals_appointment_location_id_practice_locations"),
            "practice_locations",
            ["appointment_location_id"],
            ["id"],
            ondelete="SET NULL",
        )
        for name, type_, default in REFERRAL_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=False, server_default=default))
        batch.add_column(sa.Column("no_shows", sa.Integer(), nullable=False, server_default="0"))
        for name, type_ in OPTIONAL_REFERRAL_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("referral_events") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default=""))
        batch.add_column(sa.Column("appointment_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("referral_events") as batch:
        batch.drop_column("appointment_at")
        batch.drop_column("kind")
    with op.batch_alter_table("referrals") as batch:
        for name, _ in reversed(OPTIONAL_REFERRAL_COLUMNS):
            batch.drop_column(name)
        batch.drop_column("no_shows")
        for name, _, _ in reversed(REFERRAL_COLUMNS):
            batch.drop_column(name)
        batch.drop_constraint(op.f("fk_referrals_appointment_location_id_practice_locations"), type_="foreignkey")
        batch.drop_column("appointment_location_id")
