"""What the site writes itself, and its demo data, pass the claims screening they apply to practitioners."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from directory.claims.service import screen_texts
from directory.claims.texts import public_texts
from directory.demo import seed_demo
from directory.extensions import db
from directory.models import Practitioner

TAG_RE = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.DOTALL | re.IGNORECASE)


def visible_text(html: str) -> str:
    """The text a reader sees on a page (tags, scripts and styles removed)."""
    return " ".join(unescape(TAG_RE.sub(" ", html)).split())


def test_every_demo_practitioner_passes_the_screening(app):
    seed_demo(count=300, seed=11)
    practitioners = db.session.execute(sa.select(Practitioner)).scalars().all()
    assert len(practitioners) == 300  # the hand-written showcase profiles first, then generated ones
    flagged = {p.display_name: screen_texts(public_texts(p)) for p in practitioners}
    assert {name: [f.found for f in flags] for name, flags in flagged.items() if flags} == {}


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/about/choosing-a-practitioner",
        "/how-we-verify",
        "/search",
        "/search?near=Boulder%2C+CO",
        "/shortlist",
        "/account/login",
        "/account/signup",
    ],
)
def test_the_site_s_own_pages_pass_the_screening(client, url):
    seed_demo(count=50, seed=3)
    response = client.get(url, follow_redirects=True)
    assert response.status_code == 200
    flags = screen_texts({"page": visible_text(response.get_data(as_text=True))})
    assert [f.found for f in flags] == []


def test_a_profile_page_passes_the_screening(client):
    seed_demo(count=50, seed=3)
    for practitioner in db.session.execute(
        sa.select(Practitioner).where(Practitioner.published.is_(True)).limit(5)
    ).scalars():
        html = client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
        assert [f.found for f in screen_texts({"page": visible_text(html)})] == []
