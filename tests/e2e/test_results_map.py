"""The results map: beside the list on a desktop, behind a "Map" button on a phone, one marker a result."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import PractitionerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

MARKERS_ON_MAP = """() => {
  const single = document.querySelectorAll('#results-map .result-marker').length;
  const clustered = [...document.querySelectorAll('#results-map .results-cluster span:first-child')]
    .reduce((sum, el) => sum + parseInt(el.textContent, 10), 0);
  return single + clustered;
}"""


@pytest.fixture(scope="module")
def around_missoula(live_site):
    """Practitioners around Missoula, MT (ZIP 59801), spread out so that their markers stand alone (once a run)."""
    tag = uuid.uuid4().hex[:6]
    with live_site.db():
        return [
            PractitionerFactory(
                display_name=f"Mo Mapped {tag} {n}", latitude=46.87 + n / 10, longitude=-113.99 + n / 10
            ).display_name
            for n in range(4)
        ]


def test_the_map_shows_one_marker_per_result_and_a_marker_opens_its_card(journey, around_missoula, viewport):
    page = journey.page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: m.type == "error" and "Failed to load resource" not in m.text and errors.append(m.text),
    )
    journey.goto("/search?near=59801&radius=50&unit=mi", "results with a map")
    results = page.locator("ol.results > li")
    the_map = page.locator("#results-map")
    if viewport == "phone":
        assert not the_map.is_visible(), "on a phone the map waits behind its button"
        assert results.first.bounding_box()["y"] < 740
        page.get_by_role("button", name="Map", exact=True).click()
        assert the_map.is_visible()
        journey.check("results with the map open")
    else:
        assert not page.get_by_role("button", name="Map", exact=True).is_visible()
        box, listed = the_map.bounding_box(), page.locator("ol.results").bounding_box()
        assert box["x"] >= listed["x"] + listed["width"], "the map stands beside the list"
        assert box["height"] > 250
    page.wait_for_function(f"({MARKERS_ON_MAP})() === {results.count()}")
    assert the_map.get_attribute("data-marker-count") == str(results.count())
    lone = page.locator("#results-map .result-marker").first
    number = lone.inner_text()
    lone.click()
    card = page.locator(f"#result-{number}")
    assert "result-highlight" in card.get_attribute("class")
    page.wait_for_function(f"document.activeElement && document.activeElement.id === 'result-{number}'")
    assert not errors, errors


def test_without_javascript_the_list_stands_alone(browser, live_site, around_missoula):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(live_site.url + "/search?near=59801&radius=50&unit=mi")
        assert page.locator("ol.results > li").count() >= len(around_missoula)
        assert page.locator("#results-map").count() == 0
        assert page.get_by_role("button", name="Map", exact=True).count() == 0
    finally:
        context.close()
