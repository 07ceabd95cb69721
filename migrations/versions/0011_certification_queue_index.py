"""The verification queue's index: pending credentials, oldest first, read a page at a time

(status, created_at, id) answers the queue's pages and counts from the index; it replaces the
index on status alone, which it leads with.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_certifications_queue", "certifications", ["status", "created_at", "id"], unique=False)
    op.drop_index("ix_certifications_status", table_name="certifications")


def downgrade():
    op.create_index("ix_certifications_status", "certifications", ["status"], unique=False)
    op.drop_index("ix_certifications_queue", table_name="certifications")
