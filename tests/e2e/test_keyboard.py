"""Keyboard only: a skip link first, focus always visible, forms sent with Enter, errors tied to fields."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import PractitionerFactory

# Browser tests share one server: keep them on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

desktop_only = pytest.mark.parametrize("viewport", ["desktop"], indirect=True)

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {tag: el.tagName, id: el.id, text: (el.innerText || el.value || '').trim(),
          href: el.getAttribute('href'), outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
          boxShadow: style.boxShadow, visible: el.getBoundingClientRect().width > 1};
}"""


def focused(page) -> dict:
    """What has the keyboard focus, and how it looks."""
    return page.evaluate(FOCUSED)


def assert_focus_visible(state: dict) -> None:
    """A focused element shows an outline (or Bootstrap's focus ring) a person can see."""
    ring = state["outline"] not in ("none", "") and state["outlineWidth"] >= 2
    assert ring or state["boxShadow"] not in ("none", ""), f"focus is not visible on {state}"
    assert state["visible"], f"the focused element is not on screen: {state}"


@desktop_only
def test_skip_link_is_the_first_tab_stop_and_moves_to_the_content(journey):
    page = journey.page
    journey.goto("/", "home")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"] == "Skip to content" and first["href"] == "#main"
    assert_focus_visible(first)
    journey.check("skip link focused")
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    assert focused(page)["id"] == "main"
    # The next Tab goes into the content, past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


@desktop_only
def test_every_tab_stop_on_the_search_page_shows_where_the_focus_is(journey):
    page = journey.page
    journey.goto("/search", "search page")
    seen = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        state = focused(page)
        if state["tag"] == "BODY":
            break
        assert_focus_visible(state)
        seen.add(state["text"] or state["id"])
    assert "Search" in seen, "the Search button cannot be reached with Tab"


@desktop_only
def test_search_form_is_sent_with_enter(journey, live_site):
    tag = uuid.uuid4().hex[:6]
    with live_site.db():
        PractitionerFactory(display_name=f"Kim Keyboard {tag}", latitude=40.02, longitude=-105.27)
    page = journey.page
    journey.goto("/", "home")
    page.get_by_label("ZIP code, postcode or town", exact=True).focus()
    page.keyboard.type("80302")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    journey.check("results after Enter")
    assert "near=80302" in page.url
    assert f"Kim Keyboard {tag}" in page.locator("main").inner_text()


@desktop_only
def test_form_errors_are_announced_and_tied_to_their_fields(journey, live_site):
    with live_site.db():
        practitioner = PractitionerFactory(display_name=f"Erin Errors {uuid.uuid4().hex[:6]}")
        practitioner_id = practitioner.id
    page = journey.page
    journey.goto(f"/practitioners/{practitioner_id}", "profile")
    email = page.get_by_label("Your email address")
    email.fill("not an email")
    email.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    journey.check("enquiry with errors")
    for label in ["Your name", "Your email address", "Your message"]:
        field = page.get_by_label(label, exact=True)
        assert field.get_attribute("aria-invalid") == "true", label
        described_by = field.get_attribute("aria-describedby") or ""
        messages = [page.locator(f"#{ident}").inner_text() for ident in described_by.split()]
        assert any(m.strip() for m in messages), f"{label}: no error text tied with aria-describedby"
    errors = page.locator("[role=alert]")
    assert errors.count() >= 1, "errors are not announced"
