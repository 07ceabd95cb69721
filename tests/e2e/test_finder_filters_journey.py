"""The finder's filters (issue 11) on a phone and on a desktop: language, wheelchair access, sort.

A patient near Galway (H91) who speaks Spanish and uses a wheelchair narrows the list to the
practitioners who suit them, sees how many filters are on, then sorts the list by name.
"""

from __future__ import annotations

import uuid

import pytest

from tests.factories import PractitionerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

# Around Galway, Ireland, where no other journey puts anyone: (latitude, longitude) of each practice.
GALWAY = (53.2719, -9.0489)


def near_galway(km_east: float) -> tuple[float, float]:
    """A point about km_east kilometres east of Galway's centre."""
    return GALWAY[0], GALWAY[1] + km_east / 66.6


@pytest.fixture
def galway_practitioners(live_site):
    """Four practitioners around Galway, by role in the story; unlisted again after the test."""
    tag = uuid.uuid4().hex[:6]
    people = {
        # Both filters suit these two: Zoe is nearer, Ana comes first by name.
        "zoe": dict(display_name=f"Zoe Zamora {tag}", languages="Spanish, English", wheelchair_accessible=True, at=1),
        "ana": dict(display_name=f"Ana Alvarez {tag}", languages="Irish, Spanish", wheelchair_accessible=True, at=4),
        # One filter each leaves these out.
        "steps": dict(display_name=f"Sol Steps {tag}", languages="Spanish", wheelchair_accessible=False, at=2),
        "english": dict(display_name=f"Ed English {tag}", languages="English", wheelchair_accessible=True, at=3),
    }
    ids = []
    with live_site.db():
        for person in people.values():
            latitude, longitude = near_galway(person.pop("at"))
            who = PractitionerFactory(latitude=latitude, longitude=longitude, **person)
            who.locations[0].city = "Galway"
            who.locations[0].country = "IE"
            ids.append(who.id)
    yield {role: person["display_name"] for role, person in people.items()}
    from directory.models import Practitioner

    with live_site.db() as session:
        for practitioner_id in ids:
            session.get(Practitioner, practitioner_id).published = False


def result_names(page) -> list[str]:
    """The practitioners listed, in order (the link in each card's heading)."""
    return page.locator("ol.results > li h3 a").all_inner_texts()


def open_filters(page, viewport: str) -> None:
    """On a phone the filters fold into one control; on a desktop they are a sidebar, already open."""
    if viewport == "phone":
        page.get_by_text("Filters", exact=True).click()


def test_a_patient_narrows_by_language_and_wheelchair_access_then_sorts_by_name(
    journey, galway_practitioners, viewport
):
    people = galway_practitioners
    page = journey.page
    journey.goto("/search", "search")
    page.get_by_label("ZIP code, postcode or town", exact=True).fill("H91")
    page.get_by_label("Unit", exact=True).select_option("km")
    journey.submit("Search", "results near Galway")
    assert result_names(page)[:4] == [people["zoe"], people["steps"], people["english"], people["ana"]]

    open_filters(page, viewport)
    # Every filter the issue asks for is there, labelled.
    for label in ("Maximum fee", "Session length at least", "Practitioner gender", "Sort by"):
        assert page.get_by_label(label, exact=True).is_visible(), f"no {label!r} field"
    # Languages are chosen from those practitioners list, by their English names.
    page.get_by_label("Language", exact=True).select_option(label="Spanish")
    page.get_by_label("Wheelchair accessible", exact=True).check()
    journey.submit("Show results", "Spanish and wheelchair accessible")
    assert "language=" in page.url and "wheelchair=1" in page.url
    assert result_names(page) == [people["zoe"], people["ana"]]
    cards = page.locator("ol.results > li")
    for n in range(2):
        facts = cards.nth(n).inner_text()
        assert "Wheelchair accessible" in facts and "Spanish" in facts
    assert "2 active" in page.locator(".filters-column summary").inner_text()

    open_filters(page, viewport)
    page.get_by_label("Sort by", exact=True).select_option("name")
    journey.submit("Show results", "sorted by name")
    assert "sort=name" in page.url
    assert result_names(page) == [people["ana"], people["zoe"]]
    # Sorting is no filter: the same two remain active.
    assert "2 active" in page.locator(".filters-column summary").inner_text()
    assert page.get_by_label("Language", exact=True).input_value() in ("Spanish", "es", "spanish")
