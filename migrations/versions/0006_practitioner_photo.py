"""A profile photo per practitioner: the stored file name, NULL when there is none

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("practitioners", sa.Column("photo_path", sa.String(length=64), nullable=True))


def downgrade():
    # SQLite (3.35+) drops a plain column in place; a batch copy of the table would cascade
    # deletes through its foreign keys. The photo files stay in UPLOAD_FOLDER/photos/.
    op.drop_column("practitioners", "photo_path")
