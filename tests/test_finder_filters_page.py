"""The finder's new filters on the search page, richer cards, and the way back from a profile (issue 11)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from directory.extensions import db
from directory.models import Practitioner
from tests.conftest import csrf_token_from
from tests.factories import PractitionerFactory

BOULDER = {"latitude": 40.02, "longitude": -105.27}
# A practitioner who passes every new filter of ALL_FILTERS below.
MATCHING = {
    "fee_min": 80,
    "fee_max": 80,
    "session_minutes": 60,
    "wheelchair_accessible": True,
    "gender": "female",
    "languages": "English, Spanish",
}
ALL_FILTERS = "fee_max=100&session_minutes=60&wheelchair=1&gender=female&language=Spanish"


def text_of(html: str) -> str:
    """The page's words, without tags, on one line."""
    return re.sub(r" ([:.,)?])", r"\1", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def names_found(client, query: str) -> list[str]:
    """The practitioners' names on a results page, in the order shown."""
    response = client.get(f"/search?near=80302&{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    return re.findall(r'<span class="visually-hidden">\d+\. </span><a href="[^"]+">([^<]+)</a>', html)


def select_of(html: str, name: str) -> str:
    """The <select> of a field."""
    return re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)


def options_of(html: str, name: str) -> list[tuple[str, str]]:
    """(value, text) of each option of a select."""
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select_of(html, name))


def selected_of(html: str, name: str) -> str | None:
    """The value of the selected option of a select, if any."""
    found = re.search(r'<option (?:selected value="([^"]*)"|value="([^"]*)" selected)', select_of(html, name))
    return (found.group(1) or found.group(2)) if found else None


def filters_summary(html: str) -> str:
    """The words of the Filters control's summary."""
    return text_of(re.search(r"<summary.*?</summary>", html, re.S).group(0)).strip()


def offers_of(html: str) -> dict[str, tuple[str, str]]:
    """The no-result offers: label -> (link, count shown)."""
    found = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <span class="text-muted">\(([^)]+)\)</span>', html)
    return {label: (href.replace("&amp;", "&"), count) for href, label, count in found}


# --- The form -----------------------------------------------------------------------------------


def test_the_filter_panel_offers_fee_session_wheelchair_language_gender_and_sort(client):
    html = client.get("/search?near=80302").get_data(as_text=True)
    panel = re.search(r'<details class="filters.*?</details>', html, re.S).group(0)
    for name, label in [
        ("fee_max", "Maximum fee"),
        ("session_minutes", "Session length at least"),
        ("wheelchair", "Wheelchair accessible"),
        ("language", "Language"),
        ("gender", "Practitioner gender"),
        ("sort", "Sort by"),
    ]:
        assert re.search(rf'<label[^>]*for="{name}"[^>]*>{label}</label>', panel), name
        field = re.search(rf'<(input|select)[^>]*name="{name}"[^>]*>', panel).group(0)
        assert f'id="{name}"' in field and 'form="search-form"' in field
    fee = re.search(r'<input[^>]*name="fee_max"[^>]*>', panel).group(0)
    assert 'type="number"' in fee and 'min="0"' in fee and 'step="1"' in fee
    assert 'value="1"' in re.search(r'<input[^>]*name="wheelchair"[^>]*>', panel).group(0)
    assert options_of(panel, "session_minutes") == [
        ("", "Any length"),
        ("30", "30 minutes"),
        ("45", "45 minutes"),
        ("60", "60 minutes"),
        ("90", "90 minutes"),
    ]
    assert options_of(panel, "gender") == [
        ("", "Any"),
        ("female", "Female"),
        ("male", "Male"),
        ("nonbinary", "Non-binary"),
    ]
    assert "who do not state their gender are left out" in text_of(panel)
    assert options_of(panel, "sort") == [
        ("distance", "Nearest first"),
        ("name", "Name (A–Z)"),
        ("verified", "Most recently verified"),
    ]
    assert selected_of(panel, "sort") == "distance"
    assert options_of(panel, "language")[0] == ("", "Any language")


def test_the_language_choices_are_the_languages_listed_practitioners_speak(client):
    PractitionerFactory(languages="Spanish, English", **BOULDER)
    PractitionerFactory(languages="English, Italian", **BOULDER)
    PractitionerFactory(languages="French", published=False, **BOULDER)
    PractitionerFactory(languages="German", suspended=True, **BOULDER)
    html = client.get("/search?near=80302").get_data(as_text=True)
    assert options_of(html, "language") == [
        ("", "Any language"),
        ("English", "English"),
        ("Italian", "Italian"),
        ("Spanish", "Spanish"),
    ]


def test_a_language_in_another_spelling_selects_it_by_its_english_name(client):
    PractitionerFactory(display_name="Sol Spanish", languages="English, Spanish", **BOULDER)
    PractitionerFactory(display_name="Ed English", languages="English", **BOULDER)
    html = client.get("/search?near=80302&language=Espa%C3%B1ol").get_data(as_text=True)
    assert selected_of(html, "language") == "Spanish"
    assert names_found(client, "language=Espa%C3%B1ol") == ["Sol Spanish"]
    # A real language nobody lists yet is still shown as chosen (and finds nobody).
    html = client.get("/search?near=80302&language=Deutsch").get_data(as_text=True)
    assert selected_of(html, "language") == "German"
    assert ("German", "German") in options_of(html, "language")


def test_a_chosen_filter_shows_as_chosen_in_the_form(client):
    html = client.get("/search?near=80302&fee_max=75&session_minutes=45&wheelchair=1&gender=non-binary&sort=name")
    html = html.get_data(as_text=True)
    assert re.search(r'<input[^>]*name="fee_max"[^>]*value="75"', html)
    assert selected_of(html, "session_minutes") == "45"
    assert re.search(r'<input[^>]*checked[^>]*name="wheelchair"|<input[^>]*name="wheelchair"[^>]*checked', html)
    assert selected_of(html, "gender") == "nonbinary"
    assert selected_of(html, "sort") == "name"
    # A length the list does not offer (the search accepts any from 1 to 240) is shown as chosen.
    html = client.get("/search?near=80302&session_minutes=50").get_data(as_text=True)
    assert selected_of(html, "session_minutes") == "50"


def test_wheelchair_0_is_not_a_checked_filter(client):
    html = client.get("/search?near=80302&wheelchair=0").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="wheelchair"[^>]*>', html).group(0)
    assert "checked" not in field
    assert filters_summary(html) == "Filters"


# --- What each filter finds ---------------------------------------------------------------------


def test_a_maximum_fee_keeps_practitioners_whose_fees_start_at_or_below_it(client):
    PractitionerFactory(display_name="Al Affordable", fee_min=60, fee_max=120, **BOULDER)
    PractitionerFactory(display_name="Bo Exact", fee_min=None, fee_max=100, **BOULDER)
    PractitionerFactory(display_name="Cy Costly", fee_min=150, fee_max=200, **BOULDER)
    PractitionerFactory(display_name="Di Unstated", fee_min=None, fee_max=None, **BOULDER)
    assert sorted(names_found(client, "fee_max=100")) == ["Al Affordable", "Bo Exact"]
    assert len(names_found(client, "")) == 4


def test_a_session_length_keeps_sessions_at_least_that_long(client):
    PractitionerFactory(display_name="Sam Short", session_minutes=45, **BOULDER)
    PractitionerFactory(display_name="Hal Hour", session_minutes=60, **BOULDER)
    PractitionerFactory(display_name="Lin Long", session_minutes=90, **BOULDER)
    assert sorted(names_found(client, "session_minutes=60")) == ["Hal Hour", "Lin Long"]


def test_wheelchair_access_keeps_accessible_practices(client):
    PractitionerFactory(display_name="Wes Wheels", wheelchair_accessible=True, **BOULDER)
    PractitionerFactory(display_name="Stu Stairs", wheelchair_accessible=False, **BOULDER)
    assert names_found(client, "wheelchair=1") == ["Wes Wheels"]


def test_a_gender_leaves_out_other_and_unstated_practitioners(client):
    PractitionerFactory(display_name="Fay Female", gender="female", **BOULDER)
    PractitionerFactory(display_name="Mo Male", gender="male", **BOULDER)
    PractitionerFactory(display_name="Nic Nonbinary", gender="nonbinary", **BOULDER)
    PractitionerFactory(display_name="Una Unstated", gender=None, **BOULDER)
    assert names_found(client, "gender=female") == ["Fay Female"]
    assert names_found(client, "gender=non-binary") == ["Nic Nonbinary"]
    assert len(names_found(client, "gender=")) == 4


def test_sort_by_name_lists_practitioners_alphabetically(client):
    PractitionerFactory(display_name="Zoe Near", **BOULDER)
    PractitionerFactory(display_name="Amy Far", latitude=40.2, longitude=-105.27)
    assert names_found(client, "") == ["Zoe Near", "Amy Far"]
    assert names_found(client, "sort=name") == ["Amy Far", "Zoe Near"]


def test_the_filters_control_counts_the_new_filters_but_not_the_sort_order(client):
    html = client.get(f"/search?near=80302&{ALL_FILTERS}&sort=name").get_data(as_text=True)
    assert filters_summary(html) == "Filters 5 active"
    clear = re.search(r'href="([^"]+)">Clear all filters', html).group(1).replace("&amp;", "&")
    kept = parse_qs(urlsplit(clear).query)
    assert kept == {"near": ["80302"], "sort": ["name"]}


# --- When nothing is found ------------------------------------------------------------------------

FAILS = {
    "fee_max": ({"fee_min": 150, "fee_max": 150}, "Any fee, not only up to 100", "Maximum fee 100"),
    "session_minutes": (
        {"session_minutes": 45},
        "Any session length, not only 60 minutes or more",
        "Session length at least 60 minutes",
    ),
    "wheelchair": (
        {"wheelchair_accessible": False},
        "Include places without wheelchair access",
        "Wheelchair accessible",
    ),
    "gender": ({"gender": None}, "Any practitioner gender, not only female", "Practitioner gender: Female"),
    "language": ({"languages": "English"}, "Any language, not only “Spanish”", "Language: Spanish"),
}


@pytest.mark.parametrize("dropped", FAILS)
def test_no_result_offers_to_drop_each_new_filter_and_names_the_one_that_rules_out_most(client, dropped):
    """One practitioner fails one filter only: its offer finds them, every other offer finds nobody."""
    changed, label, filter_name = FAILS[dropped]
    PractitionerFactory(display_name="Pat Almost", **{**MATCHING, **changed}, **BOULDER)
    html = client.get(f"/search?near=80302&radius=25&unit=mi&{ALL_FILTERS}").get_data(as_text=True)
    assert "0 practitioners" in text_of(html)
    offers = offers_of(html)
    assert len(offers) == 5
    href, count = offers[label]
    assert count == "1 practitioner"
    query = parse_qs(urlsplit(href).query)
    assert dropped not in query and len(query) == 3 + 4
    assert all(offer[1] == "0 practitioners" for name, offer in offers.items() if name != label)
    assert f"The filter that rules out the most is {filter_name}: without it, 1 practitioner." in text_of(html)
    assert "Pat Almost" in client.get(href).get_data(as_text=True)


# --- Bad values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("fee_max=-5", "fee_max must be between 0 and 100000"),
        ("fee_max=cheap", "fee_max must be a whole number"),
        ("session_minutes=500", "session_minutes must be between 1 and 240"),
        ("gender=robot", "gender must be one of: female, male, nonbinary"),
        ("sort=price", "sort must be one of: distance, name, verified"),
        ("wheelchair=maybe", "wheelchair must be 1 or 0"),
        ("language=Elvish", "unknown language 'Elvish'"),
    ],
)
def test_a_bad_filter_value_is_refused_with_its_message_on_the_page(client, query, message):
    response = client.get(f"/search?near=80302&{query}")
    assert response.status_code == 400
    alert = re.search(r'<div class="alert alert-warning" role="alert">(.*?)</div>', response.get_data(as_text=True))
    assert message in alert.group(1).replace("&#39;", "'")


# --- Cards ------------------------------------------------------------------------------------------


def card_of(html: str, name: str) -> str:
    """The result card of a practitioner."""
    cards = [chunk.split("</ol>")[0] for chunk in html.split('<li class="card mb-3 result"')[1:]]
    return next(card for card in cards if name in card)


def test_a_card_shows_fees_session_languages_access_and_the_photo_or_initials(client):
    pia = PractitionerFactory(
        display_name="Pia Photo",
        photo_path="abc123.jpg",
        fee_min=70,
        fee_max=95,
        currency="EUR",
        session_minutes=75,
        languages="English, Portuguese",
        wheelchair_accessible=True,
        phone="+44 20 7946 0000",
        **BOULDER,
    )
    PractitionerFactory(display_name="Ian Initials", fee_min=None, fee_max=None, session_minutes=None, **BOULDER)
    html = client.get("/search?near=80302").get_data(as_text=True)
    card = card_of(html, "Pia Photo")
    assert "Fee 70–95 EUR a session" in card and "75-minute sessions" in card
    assert "Speaks English, Portuguese" in card and "Wheelchair accessible" in card
    assert f'src="/practitioners/{pia.id}/photo/abc123.jpg"' in card and "avatar-initials" not in card
    assert 'href="tel:+442079460000"' in card and "Directions" in card
    plain = card_of(html, "Ian Initials")
    assert '<span class="avatar-initials">II</span>' in plain
    assert "Fee" not in plain and "sessions" not in plain and "Wheelchair" not in plain and "<img" not in plain


# --- From a card to the profile and back ---------------------------------------------------------


def test_the_profile_link_carries_the_search_and_back_to_results_returns_to_it(client):
    p = PractitionerFactory(display_name="Bea Back", **MATCHING, **BOULDER)
    search = f"/search?near=80302&radius=25&unit=mi&{ALL_FILTERS}&sort=name"
    html = client.get(search).get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Bea Back</a>', html).group(1).replace("&amp;", "&")
    assert link.startswith(f"/practitioners/{p.id}?")
    assert parse_qs(urlsplit(link).query)["from"] == [search]
    profile = client.get(link).get_data(as_text=True)
    back = re.search(r'<a href="([^"]+)">(?:&larr;|←) Back to results</a>', profile).group(1).replace("&amp;", "&")
    assert back == search
    assert "Bea Back" in client.get(back).get_data(as_text=True)


def test_an_old_style_from_with_the_query_string_alone_still_leads_back(client):
    p = PractitionerFactory(**BOULDER)
    html = client.get(f"/practitioners/{p.id}?from=near%3D80302%26radius%3D10").get_data(as_text=True)
    assert 'href="/search?near=80302&amp;radius=10"' in html


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "https://evil.example/search?near=80302",
        "//evil.example",
        "//evil.example/search?near=80302",
        "javascript:alert(1)",
        "/\\evil.example/search",
        "/practitioners/1",
        "/search/../admin",
    ],
)
def test_a_from_link_off_the_site_or_off_the_search_page_is_ignored(client, target):
    p = PractitionerFactory(**BOULDER)
    response = client.get(f"/practitioners/{p.id}", query_string={"from": target})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Back to results" not in html
    assert not re.search(r'href="(?:https?:)?//evil|href="javascript:|href="/\\', html)


# --- The profile --------------------------------------------------------------------------------------


def test_the_profile_shows_each_locations_phone_and_opening_hours(client):
    p = PractitionerFactory(phone="+1 303 555 0100", locations=[(40.015, -105.2705), (39.7392, -104.9903)])
    own, shared = p.locations
    own.label, own.phone = "Boulder studio", "+1 (720) 555-0199"
    own.opening_hours = "Mon 09:00-12:00\nMon 14:00-18:00\nWed 10:00-16:00\nSat 09:00-13:00"
    own.hours_note = "Evenings by appointment"
    shared.label = "Denver clinic"
    db.session.commit()
    html = client.get(f"/practitioners/{p.id}").get_data(as_text=True)
    studio, clinic = re.findall(r'<li class="location.*?</li>', html, re.S)
    assert 'Phone: <a href="tel:+17205550199">+1 (720) 555-0199</a>' in studio
    assert 'Phone: <a href="tel:+13035550100">+1 303 555 0100</a>' in clinic
    hours = text_of(re.search(r'<table class="[^"]*opening-hours-table.*?</table>', studio, re.S).group(0))
    assert "Monday 09:00–12:00, 14:00–18:00 Wednesday 10:00–16:00 Saturday 09:00–13:00" in hours
    assert "Evenings by appointment" in studio
    assert "Opening hours" not in clinic
    assert "Directions" in studio and "Directions" in clinic


@pytest.mark.parametrize(("gender", "shown"), [("female", "Female"), ("nonbinary", "Non-binary"), (None, None)])
def test_the_profile_states_gender_only_when_the_practitioner_does(client, gender, shown):
    p = PractitionerFactory(gender=gender, **BOULDER)
    words = text_of(client.get(f"/practitioners/{p.id}").get_data(as_text=True))
    if shown:
        assert f"Gender {shown}" in words
    else:
        assert "Gender" not in words


# --- The shortlist -------------------------------------------------------------------------------------


def test_the_shortlist_compares_distance_fees_session_and_access_from_the_search(client):
    near = PractitionerFactory(
        display_name="Nell Near", fee_min=None, fee_max=110, wheelchair_accessible=True, **BOULDER
    )
    far = PractitionerFactory(display_name="Fred Far", latitude=40.2, longitude=-105.27)
    for p in (near, far):
        token = csrf_token_from(client.get("/search?near=80302").get_data(as_text=True))
        client.post("/shortlist/add", data={"csrf_token": token, "practitioner_id": p.id, "next": "/search"})
    html = client.get("/search?near=80302&unit=mi").get_data(as_text=True)
    compare = re.search(r'href="([^"]+)">Compare your shortlist \(2\)', html).group(1).replace("&amp;", "&")
    page = client.get(compare).get_data(as_text=True)
    rows = {
        text_of(th).strip(): [text_of(td).strip() for td in tds]
        for th, tds in (
            (row.group(1), re.findall(r"<td>(.*?)</td>", row.group(2), re.S))
            for row in re.finditer(r'<th scope="row">(.*?)</th>(.*?)</tr>', page, re.S)
        )
    }
    distances = rows["Distance from your search"]
    assert all(d.endswith(" mi") for d in distances) and float(distances[0][:-3]) < float(distances[1][:-3])
    assert rows["Fees"][0] == "USD 110 per session"
    assert rows["Wheelchair access"] == ["Yes", "Not stated"]
    assert rows["Session length"] == ["60 minutes", "60 minutes"]
    assert "Back to results" in page
    # Without a search, the shortlist has no distances.
    assert "Distance from your search" not in client.get("/shortlist").get_data(as_text=True)


def test_the_language_list_is_read_once_however_often_the_page_asks(app):
    from directory.public.languages import listed_languages

    PractitionerFactory(languages="Español, English", **BOULDER)
    with app.test_request_context("/search"):
        assert listed_languages() == ["English", "Spanish"]
        db.session.execute(db.update(Practitioner).values(languages="French"))
        assert listed_languages() == ["English", "Spanish"]
    db.session.rollback()


def test_each_process_keeps_the_language_list_for_a_while(database_url, tmp_path):
    """LANGUAGE_LIST_SECONDS > 0: a language listed since is not re-read until the list expires."""
    from directory import create_app
    from directory.extensions import db as database
    from directory.public.languages import listed_languages
    from tests.conftest import base_config, reset_database

    app = create_app({**base_config(database_url, str(tmp_path)), "LANGUAGE_LIST_SECONDS": 300})
    with app.app_context():
        reset_database()
        PractitionerFactory(languages="English")
        database.session.commit()
        # Each request has its own application context (and `g`), as on a server.
        with app.app_context(), app.test_request_context("/search"):
            assert listed_languages() == ["English"]
        PractitionerFactory(languages="English, Tamil")
        database.session.commit()
        with app.app_context(), app.test_request_context("/search"):
            assert listed_languages() == ["English"]
        app.extensions.pop("listed_languages")
        with app.app_context(), app.test_request_context("/search"):
            assert listed_languages() == ["English", "Tamil"]
        database.session.remove()
        database.engine.dispose()
