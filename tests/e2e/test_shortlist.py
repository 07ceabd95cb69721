"""A patient saves practitioners from the search results and compares them on the shortlist, without an account."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import PractitionerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture
def three_in_missoula(live_site):
    """Three practitioners around Missoula, MT (ZIP 59801), where no other journey puts anyone."""
    tag = uuid.uuid4().hex[:6]
    with live_site.db():
        return [
            PractitionerFactory(
                display_name=f"Sam Shortlist {tag} {n}",
                latitude=46.86 + n / 100,
                longitude=-114.02,
                fee_min=80 + 10 * n,
                fee_max=100 + 10 * n,
                session_minutes=45 + 15 * n,
            ).display_name
            for n in range(3)
        ]


def test_patient_saves_two_from_search_compares_them_and_removes_one(journey, three_in_missoula):
    first, second, third = three_in_missoula
    page = journey.page
    journey.goto("/search?near=59801", "results near Missoula")
    journey.submit(f"Save {first} to your shortlist", "saved the first")
    assert page.get_by_role("button", name=f"remove {first} from your shortlist").is_visible()
    journey.submit(f"Save {second} to your shortlist", "saved the second")
    assert "Shortlist (2)" in page.get_by_role("navigation", name="Main").inner_text()

    journey.click_link("Shortlist (2)", "the shortlist")
    table = page.locator("table.shortlist")
    names = table.locator("thead th").all_inner_texts()
    assert [name.splitlines()[0] for name in names] == [first, second]
    text = table.inner_text()
    assert "USD 80–100 per session" in text and "USD 90–110 per session" in text
    assert "45 minutes" in text and "60 minutes" in text
    assert third not in text

    journey.submit(f"Remove {first}", "removed one")
    assert "Removed from your shortlist." in page.locator("main").inner_text()
    remaining = page.locator("table.shortlist thead th").all_inner_texts()
    assert [name.splitlines()[0] for name in remaining] == [second]
    assert "Shortlist (1)" in page.get_by_role("navigation", name="Main").inner_text()
