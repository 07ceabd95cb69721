"""Each practice location's IANA time zone, found offline from its coordinates

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "practice_locations", sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC")
    )
    from directory.timezones import time_zone_at

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, latitude, longitude FROM practice_locations")).all()
    by_zone: dict[str, list[int]] = {}
    for location_id, latitude, longitude in rows:
        by_zone.setdefault(time_zone_at(latitude, longitude), []).append(location_id)
    for zone, ids in by_zone.items():
        for start in range(0, len(ids), 500):
            bind.execute(
                sa.text("UPDATE practice_locations SET time_zone = :zone WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"zone": zone, "ids": ids[start : start + 500]},
            )


def downgrade():
    op.drop_column("practice_locations", "time_zone")
