"""Imports respect decisions: who unpublished a profile, when it was imported, texts edited since

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("practitioners", sa.Column("unpublished_by", sa.String(length=10), nullable=True))
    op.add_column("practitioners", sa.Column("unpublished_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("practitioners", sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("practitioners", sa.Column("texts_edited", sa.JSON(), nullable=True))
    # Profiles an admin took off before this was recorded: the latest moderation entry says so.
    op.execute(
        """
        UPDATE practitioners SET unpublished_by = 'admin'
        WHERE published = false AND (
            SELECT a.action FROM audit_log a
            WHERE a.object_type = 'Practitioner' AND a.object_id = CAST(practitioners.id AS VARCHAR(80))
              AND a.action IN ('practitioner.published', 'practitioner.unpublished')
            ORDER BY a.at DESC, a.id DESC LIMIT 1
        ) = 'practitioner.unpublished'
        """
    )


def downgrade():
    # SQLite (3.35+) drops plain columns in place; a batch copy of the table would cascade
    # deletes through its foreign keys.
    for column in ("texts_edited", "imported_at", "unpublished_at", "unpublished_by"):
        op.drop_column("practitioners", column)
