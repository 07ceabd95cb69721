"""PostgreSQL nearest-first index, and the reference data: conditions and certifying bodies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

CONDITIONS = [
    # slug, name, bit
    ("migraine-headache", "Migraines and headaches", 0),
    ("neck-back-pain", "Chronic neck and back pain", 1),
    ("fibromyalgia", "Fibromyalgia", 2),
    ("tmj", "Temporomandibular joint (TMJ) disorders", 3),
    ("stress-tension", "Stress and tension-related disorders", 4),
]

BODIES = [
    {
        "slug": "upledger",
        "name": "Upledger Institute International",
        "website": "https://www.upledger.com",
        "description": "Teaches CranioSacral Therapy (UCST) and certifies practitioners at two levels after coursework, "
        "supervised practice and written, oral and practical examinations.",
        "credentials": [
            ("CST-T", "CranioSacral Therapy, Techniques certification",
             "Completion of CST1, CST2 and SomatoEmotional Release 1, then written and practical examinations."),
            ("CST-D", "CranioSacral Therapy, Diplomate certification",
             "CST-T, advanced coursework (SER2, Advanced CST), then written, oral and hands-on examinations."),
        ],
    },
    {
        "slug": "bcta-na",
        "name": "Biodynamic Craniosacral Therapy Association of North America",
        "website": "https://www.craniosacraltherapy.org",
        "description": "Professional association for biodynamic craniosacral therapy in North America; registers "
        "practitioners who completed an approved foundation training.",
        "credentials": [
            ("RCST", "Registered Craniosacral Therapist",
             "An approved 700-hour foundation training over at least two years, with supervised practice sessions, "
             "and continuing education to stay registered."),
        ],
    },
    {
        "slug": "csta-uk",
        "name": "Craniosacral Therapy Association (UK)",
        "website": "https://www.craniosacral.co.uk",
        "description": "The UK's professional association for craniosacral therapists; registers practitioners "
        "trained at an accredited school.",
        "credentials": [
            ("RCST", "Registered Craniosacral Therapist",
             "Graduation from a CSTA-accredited training of at least two years, adherence to the code of ethics, "
             "insurance and continuing professional development."),
        ],
    },
]


def upgrade():
    bind = op.get_bind()
    # The search's covering index: listed locations by latitude, longitude, condition bits, practitioner.
    with op.batch_alter_table("practice_locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_index("ix_practice_locations_lat_lon_bits")
        batch_op.create_index(
            "ix_practice_locations_search",
            ["listed", "latitude", "longitude", "condition_bits", "practitioner_id"],
            unique=False,
        )
    op.execute(
        "UPDATE practice_locations SET listed = EXISTS (SELECT 1 FROM practitioners p "
        "WHERE p.id = practice_locations.practitioner_id AND p.published AND NOT p.suspended)"
    )
    if bind.dialect.name == "postgresql":
        # Nearest-first search on PostgreSQL: a GiST index on the location as an earth point.
        op.execute("CREATE EXTENSION IF NOT EXISTS cube")
        op.execute("CREATE EXTENSION IF NOT EXISTS earthdistance")
        op.execute(
            "CREATE INDEX ix_practice_locations_earth ON practice_locations "
            "USING gist (ll_to_earth(latitude, longitude))"
        )

    conditions = sa.table("conditions", sa.column("id", sa.Integer), sa.column("slug", sa.String),
                          sa.column("name", sa.String), sa.column("bit", sa.Integer),
                          sa.column("sort_order", sa.Integer))
    op.bulk_insert(conditions, [
        {"slug": slug, "name": name, "bit": bit, "sort_order": bit} for slug, name, bit in CONDITIONS
    ])
    bodies = sa.table("certifying_bodies", sa.column("id", sa.Integer), sa.column("slug", sa.String),
                      sa.column("name", sa.String), sa.column("website", sa.String),
                      sa.column("description", sa.String))
    credentials = sa.table("credentials", sa.column("body_id", sa.Integer), sa.column("code", sa.String),
                           sa.column("name", sa.String), sa.column("requirements", sa.String))
    for body in BODIES:
        op.bulk_insert(bodies, [{k: body[k] for k in ("slug", "name", "website", "description")}])
        body_id = bind.execute(sa.text("SELECT id FROM certifying_bodies WHERE slug = :s"),
                               {"s": body["slug"]}).scalar_one()
        op.bulk_insert(credentials, [
            {"body_id": body_id, "code": code, "name": name, "requirements": req}
            for code, name, req in body["credentials"]
        ])


def downgrade():
    op.execute("DELETE FROM credentials")
    op.execute("DELETE FROM certifying_bodies")
    op.execute("DELETE FROM conditions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_practice_locations_earth")
    with op.batch_alter_table("practice_locations", schema=None) as batch_op:
        batch_op.drop_index("ix_practice_locations_search")
        batch_op.create_index("ix_practice_locations_lat_lon_bits", ["latitude", "longitude", "condition_bits"], unique=False)
        batch_op.drop_column("listed")
