"""Journey: a patient writes to a practitioner and sees every answer where they were writing.

On a phone the enquiry form sits below a long profile. Whether the message was refused or sent,
the answer (the error summary or the thank-you) must be on the screen after the page loads,
without scrolling and without JavaScript doing it, and a refused message keeps its text.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.factories import PractitionerFactory

# Browser tests share one server: keep them on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

MESSAGE = "I have had headaches since a fall last spring. Do you have an appointment on a weekday evening?"
# A profile as long as a real one: the enquiry form starts far below the first screen on a phone.
LONG_BIO = "\n\n".join(
    f"Paragraph {n}: I trained in craniosacral therapy after years as a physiotherapist, and I work "
    "gently, at your pace, with people of every age."
    for n in range(1, 9)
)


@pytest.fixture
def practitioner_id(live_site) -> int:
    """A listed practitioner with a long profile."""
    with live_site.db():
        practitioner = PractitionerFactory(display_name=f"Hana Headway {uuid.uuid4().hex[:6]}", bio=LONG_BIO)
        return practitioner.id


IN_VIEW = """selector => { const box = document.querySelector(selector).getBoundingClientRect();
                return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight; }"""


def on_screen(page, selector: str) -> dict:
    """Where an element is against the window, once the browser has opened the page at its fragment.

    Chromium scrolls to the fragment a moment after the load event, so the check waits (up to
    five seconds) for the element's box to lie within the window before reporting where it is.
    """
    try:
        page.wait_for_function(IN_VIEW, arg=selector, timeout=5_000)
    except PlaywrightTimeout:
        pass  # reported below, with the numbers
    return page.locator(selector).evaluate(
        """el => { const box = el.getBoundingClientRect();
                   return {top: box.top, bottom: box.bottom, height: window.innerHeight,
                           visible: box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight}; }"""
    )


def send(journey, label: str) -> None:
    """Press "Send enquiry" as a person would (after the few seconds a person needs to write)."""
    page = journey.page
    page.wait_for_timeout(1100)  # the form refuses what is sent faster than a person types
    with page.expect_navigation():
        page.get_by_role("button", name="Send enquiry").click()
    page.wait_for_load_state("load")


def test_patient_sees_the_error_and_then_the_thank_you_without_scrolling(journey, practitioner_id, viewport):
    page = journey.page
    journey.goto(f"/practitioners/{practitioner_id}", "profile")
    page.get_by_label("Your name").fill("Paula Patient")
    page.get_by_label("Your email address").fill("paula.patient@example")  # a slip: no top-level domain
    page.get_by_label("Your message").fill(MESSAGE)
    page.get_by_label("I agree", exact=False).check()
    send(journey, "enquiry refused")

    # The reason is on the screen, above the form that still holds the message.
    where = on_screen(page, "#enquiry-problem")
    assert where["visible"], f"the error summary is off-screen at {viewport}: {where}"
    assert "Your message was not sent" in page.locator("#enquiry-problem").inner_text()
    assert page.get_by_label("Your message").input_value() == MESSAGE
    assert page.get_by_label("Your name").input_value() == "Paula Patient"
    journey.check("enquiry refused")

    # The summary's link leads to the field to correct.
    page.locator("#enquiry-problem").get_by_role("link", name="Your email address").click()
    page.get_by_label("Your email address").fill("paula.patient@example.net")
    send(journey, "enquiry sent")

    # The thank-you is on the screen, and no empty form invites a second send.
    where = on_screen(page, "#enquiry-sent")
    assert where["visible"], f"the thank-you is off-screen at {viewport}: {where}"
    assert "Your message was sent" in page.locator("#enquiry-sent").inner_text()
    assert page.locator("#enquiry form").count() == 0
    journey.check("enquiry sent")


def test_without_javascript_the_answer_still_opens_on_screen(browser, live_site, practitioner_id, viewport):
    from tests.e2e.conftest import VIEWPORTS

    context = browser.new_context(**VIEWPORTS[viewport], java_script_enabled=False, locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{live_site.url}/practitioners/{practitioner_id}")
        page.get_by_label("Your name").fill("Noah No-Script")
        page.get_by_label("Your email address").fill("noah@example.net")
        page.get_by_label("Your message").fill("Hi")  # too short
        page.get_by_label("I agree", exact=False).check()
        with page.expect_navigation():
            page.get_by_role("button", name="Send enquiry").click()
        page.wait_for_load_state("load")
        assert on_screen(page, "#enquiry-problem")["visible"]
        assert page.get_by_label("Your name").input_value() == "Noah No-Script"
    finally:
        context.close()
