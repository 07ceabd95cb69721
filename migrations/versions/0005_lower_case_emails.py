"""Store every account and profile email lower-case and trimmed, as the models now write them

Emails are compared as stored (no lower() in SQL, so PostgreSQL uses the unique indexes): rows
written before that rule are brought in line once here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    for table in ("users", "practitioners"):
        op.execute(f"UPDATE {table} SET email = lower(trim(email)) WHERE email <> lower(trim(email))")


def downgrade():
    # The original spelling is gone; lower-case addresses are valid under the old code too.
    pass
