"""Index the audit log by record (object_type, object_id), which the audit page filters on

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_log_object", "audit_log", ["object_type", "object_id"], unique=False)


def downgrade():
    op.drop_index("ix_audit_log_object", table_name="audit_log")
