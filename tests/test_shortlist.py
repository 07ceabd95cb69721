"""A visitor keeps a shortlist of up to ten practitioners without an account, and compares them."""

from __future__ import annotations

import re

import pytest

from directory.models import VerificationStatus
from directory.public import shortlist
from tests.conftest import csrf_token_from
from tests.factories import CertificationFactory, PractitionerFactory


def save(client, practitioner_id: int, page: str = "/search?near=80302", **extra):
    """Press "Save" on a page, as a browser would: the form's token, the id, back to the page."""
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    data = {"csrf_token": token, "practitioner_id": practitioner_id, "next": page, **extra}
    return client.post("/shortlist/add", data=data)


def post_from_shortlist(client, action: str, **data):
    """Press "Remove" or "Clear" on the shortlist page."""
    token = csrf_token_from(client.get("/shortlist").get_data(as_text=True))
    return client.post(f"/shortlist/{action}", data={"csrf_token": token, "next": "/shortlist", **data})


def saved_in_cookie(client) -> list:
    """What the signed session cookie holds for the shortlist."""
    with client.session_transaction() as session:
        return session.get(shortlist.SESSION_KEY, [])


@pytest.fixture
def two_in_boulder(app):
    """Two practitioners near Boulder, CO, with different fees, sessions, languages and credentials."""
    ana = PractitionerFactory(
        display_name="Ana Verified",
        fee_min=90,
        fee_max=120,
        currency="USD",
        session_minutes=60,
        languages="English, Spanish",
    )
    CertificationFactory(practitioner=ana, status=VerificationStatus.VERIFIED)
    ben = PractitionerFactory(
        display_name="Ben Stated", session_minutes=45, languages="English", accepting_new_patients=False, latitude=40.03
    )
    CertificationFactory(practitioner=ben, credential="CST-D")
    return ana, ben


def test_visitor_saves_two_from_search_and_compares_them_side_by_side(client, two_in_boulder):
    ana, ben = two_in_boulder
    first = save(client, ana.id)
    assert first.status_code == 302
    assert first.headers["Location"] == "/search?near=80302"
    page = client.get("/search?near=80302").get_data(as_text=True)
    assert "Saved Ana Verified to your shortlist (1 of 10)." in page
    assert 'Saved<span class="visually-hidden">: remove Ana Verified' in page
    assert 'Save<span class="visually-hidden"> Ben Stated' in page
    save(client, ben.id)
    assert saved_in_cookie(client) == [ana.id, ben.id]

    html = client.get("/shortlist").get_data(as_text=True)
    assert "Shortlist (2)" in html
    table = html[html.index("<table") : html.index("</table>")]
    assert table.index("Ana Verified") < table.index("Ben Stated")
    assert "USD 90–120 per session" in table
    assert "60 minutes" in table and "45 minutes" in table
    assert "English, Spanish" in table
    assert "Accepting" in table and "Not accepting" in table
    assert "Verified CST-T" in table
    assert "CST-D (not yet verified)" in table
    assert "css/shortlist-print.css" in html and 'media="print"' in html


def test_saving_from_a_profile_comes_back_to_the_profile_where_the_button_now_reads_saved(client, two_in_boulder):
    ana, _ = two_in_boulder
    profile = f"/practitioners/{ana.id}"
    assert "Save<span" in client.get(profile).get_data(as_text=True)
    response = save(client, ana.id, page=profile)
    assert response.headers["Location"] == profile
    html = client.get(profile).get_data(as_text=True)
    assert 'action="/shortlist/remove"' in html and "Saved<span" in html


def test_saving_twice_keeps_one_entry(client, two_in_boulder):
    ana, _ = two_in_boulder
    save(client, ana.id)
    save(client, ana.id)
    assert saved_in_cookie(client) == [ana.id]
    assert "Ana Verified is already on your shortlist." in client.get("/shortlist").get_data(as_text=True)


def test_the_eleventh_save_is_refused_with_a_clear_message(client, app):
    people = [PractitionerFactory(display_name=f"Practitioner {n}") for n in range(11)]
    for person in people[:10]:
        save(client, person.id)
    response = save(client, people[10].id, page=f"/practitioners/{people[10].id}")
    assert response.headers["Location"] == f"/practitioners/{people[10].id}"
    html = client.get(f"/practitioners/{people[10].id}").get_data(as_text=True)
    assert "Your shortlist is full: it holds 10 practitioners. Remove one to save another." in html
    assert saved_in_cookie(client) == [p.id for p in people[:10]]


def test_remove_takes_one_off_and_clear_empties_the_shortlist(client, two_in_boulder):
    ana, ben = two_in_boulder
    save(client, ana.id)
    save(client, ben.id)
    response = post_from_shortlist(client, "remove", practitioner_id=ana.id)
    assert response.headers["Location"] == "/shortlist"
    html = client.get("/shortlist").get_data(as_text=True)
    assert "Removed from your shortlist." in html
    assert "Ben Stated" in html and "Ana Verified" not in html
    post_from_shortlist(client, "clear")
    html = client.get("/shortlist").get_data(as_text=True)
    assert "Your shortlist is now empty." in html and "Your shortlist is empty." in html
    assert "Shortlist (" not in html
    assert saved_in_cookie(client) == []


def test_a_practitioner_no_longer_listed_drops_off_the_shortlist(client, app, two_in_boulder):
    ana, ben = two_in_boulder
    save(client, ana.id)
    save(client, ben.id)
    ana.suspended = True
    html = client.get("/shortlist").get_data(as_text=True)
    assert "Ana Verified" not in html and "Ben Stated" in html
    assert saved_in_cookie(client) == [ben.id]


def test_only_ids_are_kept_in_the_session_cookie(client, two_in_boulder):
    ana, _ = two_in_boulder
    save(client, ana.id)
    assert saved_in_cookie(client) == [ana.id]


def test_a_save_without_the_form_token_is_refused(client, two_in_boulder):
    ana, _ = two_in_boulder
    response = client.post("/shortlist/add", data={"practitioner_id": ana.id, "next": "/"})
    assert response.status_code == 400
    assert saved_in_cookie(client) == []


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_a_next_link_off_the_site_is_not_followed(client, two_in_boulder, target):
    ana, _ = two_in_boulder
    response = save(client, ana.id, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/shortlist"


def test_saving_a_practitioner_who_is_not_listed_is_not_found(client, app):
    shown, hidden = PractitionerFactory(), PractitionerFactory(published=False)
    page = f"/practitioners/{shown.id}"
    assert save(client, hidden.id, page=page).status_code == 404
    assert save(client, 2**31, page=page).status_code == 400
    assert saved_in_cookie(client) == []


def test_an_empty_shortlist_says_how_to_fill_it(client):
    html = client.get("/shortlist").get_data(as_text=True)
    assert "Your shortlist is empty." in html
    assert re.search(r'href="/search"', html)


@pytest.mark.parametrize(
    ("stored", "kept"),
    [
        (None, []),
        ("1,2", []),
        ([3, 3, 4], [3, 4]),
        ([True, -1, 0, "5", 6.0, 7], [7]),
        (list(range(1, 15)), list(range(1, 11))),
    ],
)
def test_a_tampered_or_malformed_cookie_is_read_safely(stored, kept):
    assert shortlist.saved_ids({shortlist.SESSION_KEY: stored}) == kept


def test_the_rules_on_a_plain_session():
    session: dict = {}
    assert shortlist.add(session, 5) is True
    assert shortlist.add(session, 5) is False
    for n in range(6, 15):
        shortlist.add(session, n)
    with pytest.raises(shortlist.ShortlistFull):
        shortlist.add(session, 99)
    assert shortlist.remove(session, 5) is True
    assert shortlist.remove(session, 5) is False
    shortlist.clear(session)
    assert session == {}
