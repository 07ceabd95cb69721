"""Finder filters: gender, a phone and opening hours per location, and their copies in the search index

Practitioners may state a gender. Each location gains its own phone, opening hours and a note.
The search index gains copies of the practitioner's lowest fee, session length, wheelchair
access, gender, lower-cased name and the day of their latest verification, so that the new filters and the
sort by verification need no join; the languages copy becomes language subtags ("|en|es|"),
so that "Español", "spanish" and "es" find the same practitioners. Existing language lists are
rewritten with English names where the language is recognised.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_INDEX = [
    "listed",
    "band",
    "longitude",
    "latitude",
    "condition_bits",
    "practitioner_id",
    "accepting",
    "verified_until",
    "languages",
]
NEW_INDEX = OLD_INDEX + ["fee_from", "session_minutes", "wheelchair", "gender", "verified_on", "sort_name"]


def _language_code(text: str) -> str | None:
    import langcodes

    try:
        if len(text) <= 3 and langcodes.tag_is_valid(text):
            return langcodes.Language.get(text).language
        return langcodes.find(text).language
    except (LookupError, ValueError):
        return None


def _rewrite_languages(bind) -> None:
    """English names on practitioners (unknown words kept), language subtags on their locations."""
    import langcodes

    rows = bind.execute(sa.text("SELECT DISTINCT languages FROM practitioners")).all()
    for (stored,) in rows:
        names, codes = [], []
        for part in (stored or "").replace(";", ",").split(","):
            typed = " ".join(part.split())
            if not typed:
                continue
            code = _language_code(typed)
            name = langcodes.Language.get(code).display_name("en") if code else typed
            if name not in names:
                names.append(name)
            if code and code not in codes:
                codes.append(code)
        index = f"|{'|'.join(codes)}|" if codes else ""
        params = {"old": stored, "new": ", ".join(names)[:300], "index": index}
        bind.execute(sa.text("UPDATE practitioners SET languages = :new WHERE languages = :old"), params)
        bind.execute(
            sa.text(
                "UPDATE practice_locations SET languages = :index WHERE practitioner_id IN "
                "(SELECT id FROM practitioners WHERE languages = :new)"
            ),
            params,
        )


def upgrade():
    op.add_column("practitioners", sa.Column("gender", sa.String(length=12), nullable=True))
    op.add_column("practice_locations", sa.Column("phone", sa.String(length=40), nullable=False, server_default=""))
    op.add_column("practice_locations", sa.Column("opening_hours", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "practice_locations", sa.Column("hours_note", sa.String(length=200), nullable=False, server_default="")
    )
    op.add_column("practice_locations", sa.Column("verified_on", sa.Date(), nullable=True))
    op.add_column("practice_locations", sa.Column("fee_from", sa.Integer(), nullable=True))
    op.add_column("practice_locations", sa.Column("session_minutes", sa.Integer(), nullable=True))
    op.add_column(
        "practice_locations", sa.Column("wheelchair", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("practice_locations", sa.Column("gender", sa.String(length=12), nullable=True))
    op.add_column(
        "practice_locations", sa.Column("sort_name", sa.String(length=120), nullable=False, server_default="")
    )
    bind = op.get_bind()
    day = "CAST(c.verified_at AS DATE)" if bind.dialect.name == "postgresql" else "date(c.verified_at)"
    op.execute(
        "UPDATE practice_locations SET "
        "fee_from = (SELECT coalesce(p.fee_min, p.fee_max) FROM practitioners p WHERE p.id = practice_locations.practitioner_id), "
        "session_minutes = (SELECT p.session_minutes FROM practitioners p WHERE p.id = practice_locations.practitioner_id), "
        "wheelchair = (SELECT p.wheelchair_accessible FROM practitioners p WHERE p.id = practice_locations.practitioner_id), "

        f"verified_on = (SELECT max({day}) FROM certifications c "
        "WHERE c.practitioner_id = practice_locations.practitioner_id AND c.status = 'verified')"
    )
    _rewrite_languages(bind)
    # Lower-cased in Python, as the application does (SQLite's lower() knows only ASCII).
    names = bind.execute(sa.text("SELECT id, display_name FROM practitioners")).all()
    if names:
        bind.execute(
            sa.text("UPDATE practice_locations SET sort_name = :name WHERE practitioner_id = :pid"),
            [{"pid": pid, "name": (name or "").casefold()[:120]} for pid, name in names],
        )
    op.drop_index("ix_practice_locations_search", table_name="practice_locations")
    op.create_index("ix_practice_locations_search", "practice_locations", NEW_INDEX, unique=False)


def downgrade():
    op.drop_index("ix_practice_locations_search", table_name="practice_locations")
    op.execute(
        "UPDATE practice_locations SET languages = (SELECT lower(p.languages) FROM practitioners p "
        "WHERE p.id = practice_locations.practitioner_id)"
    )
    for column in (
        "sort_name",
        "gender",
        "wheelchair",
        "session_minutes",
        "fee_from",
        "verified_on",
        "hours_note",
        "opening_hours",
        "phone",
    ):
        op.drop_column("practice_locations", column)
    op.drop_column("practitioners", "gender")
    op.create_index("ix_practice_locations_search", "practice_locations", OLD_INDEX, unique=False)
