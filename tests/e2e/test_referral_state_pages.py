"""A page for each state of a referral, as each party who may see it reads it, at 375 px and desktop.

Every status of the one transition table (directory/referrals/workflow.py) gets a referral built
directly with the services (the journey test already clicks through the moves); the referring
provider, the receiving practitioner and an admin open its page in Chromium. Each page shows the
status's label and explanation and what the state carries (the hold's reason, why it failed, the
no-shows, the appointment in the practice's own time, the outcome), is clean for axe-core, and
does not scroll sideways. A referral the practitioner may not see (a draft, one sent in error)
is missing from their list and answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest

from directory.accounts.service import set_password
from directory.extensions import db
from directory.models import Referral, Role, User
from directory.models.accounts import ProviderStatus
from directory.referrals import service, workflow
from directory.referrals.outcome import PGIC_LABELS, Outcome
from tests.e2e.conftest import VIEWPORTS, Journey, open_context
from tests.e2e.people import PASSWORD, make_admin, make_practitioner, sign_in, unique
from tests.factories import UserFactory
from tests.referral_helpers import PATIENT, make_referral

# Browser tests share one server: keep them on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

REFERRER, RECIPIENT, ADMIN = "referrer", "recipient", "admin"
PARTIES = (REFERRER, RECIPIENT, ADMIN)
# The practitioner never sees a draft, nor a referral withdrawn as sent in error.
NEVER_SHOWN_TO_RECIPIENT = {workflow.DRAFT, workflow.ENTERED_IN_ERROR}

# The practitioner's one location is in Boulder, Colorado (America/Denver): the first
# appointment of make_referral (16:30 UTC on 4 March, before daylight saving) is 09:30 MST there.
WINTER_APPOINTMENT = "Wed 4 Mar 2026, 09:30 MST, Boulder practice"
SUMMER_APPOINTMENT = "Wed 15 Jul 2026, 15:00 MDT, Boulder practice"
HOLD_REASON = "Patient travelling until January"
DECLINE_REASON = "Outside my scope: a neurologist should see this first"
FAILURE_NOTE = "Two calls and a letter went unanswered"
CANCEL_NOTE = "The patient moved to another state"
ERROR_NOTE = "Wrong patient chosen from the list"
OUTCOME_NOTE = "Six sessions; the jaw pain has eased and the headaches stopped."
RETURN_REASON = "To review the night guard"


# --- Referrals in each state, built directly ---------------------------------------------------


def _move(referral: Referral, user: User, target: str, **details) -> Referral:
    service.transition(referral, user, target, **details)
    return referral


def _on_hold(provider: User, practitioner: User) -> Referral:
    referral = make_referral(provider, practitioner, workflow.ACCEPTED)
    return _move(referral, provider, workflow.ON_HOLD, note=HOLD_REASON)


def _rejected(provider: User, practitioner: User) -> Referral:
    referral = make_referral(provider, practitioner, workflow.RECEIVED)
    return _move(referral, practitioner, workflow.REJECTED, note=DECLINE_REASON)


def _in_progress_with_a_no_show(provider: User, practitioner: User) -> Referral:
    referral = make_referral(provider, practitioner, workflow.IN_PROGRESS)
    return _move(referral, practitioner, workflow.NO_SHOW)  # the booked appointment, missed


def _failed_after_two_no_shows(provider: User, practitioner: User) -> Referral:
    referral = _in_progress_with_a_no_show(provider, practitioner)
    # The second missed appointment, in local time at the practice (after the clocks went forward).
    _move(referral, practitioner, workflow.NO_SHOW, appointment_at=datetime(2026, 3, 11, 9, 30))
    return _move(referral, practitioner, workflow.FAILED, reason=workflow.NO_SHOW, note=FAILURE_NOTE)


def _completed_with_an_outcome(provider: User, practitioner: User) -> Referral:
    referral = make_referral(provider, practitioner, workflow.ACCEPTED)
    _move(referral, practitioner, workflow.IN_PROGRESS, appointment_at=datetime(2026, 7, 15, 15, 0))
    outcome = Outcome(
        sessions=6,
        last_session_on=date(2026, 9, 2),
        pain_start=7,
        pain_end=2,
        pgic=2,
        return_to_referrer=True,
        return_reason=RETURN_REASON,
    )
    return _move(referral, practitioner, workflow.COMPLETED, note=OUTCOME_NOTE, outcome=outcome)


def _cancelled(provider: User, practitioner: User) -> Referral:
    referral = make_referral(provider, practitioner, workflow.ACCEPTED)
    return _move(referral, provider, workflow.CANCELLED, note=CANCEL_NOTE)


def _entered_in_error(provider: User, practitioner: User) -> Referral:
    referral = make_referral(provider, practitioner, workflow.RECEIVED)
    return _move(referral, provider, workflow.ENTERED_IN_ERROR, note=ERROR_NOTE)


def _just(status: str) -> Callable[[User, User], Referral]:
    return lambda provider, practitioner: make_referral(provider, practitioner, status)


@dataclass(frozen=True)
class StatePage:
    """How to build a referral in a state, and what its page shows besides the label and explanation.

    `facts`: a term of the page's description lists and the exact text beside it;
    `texts`: sentences found anywhere in the page's main content.
    """

    build: Callable[[User, User], Referral]
    facts: dict[str, str] = field(default_factory=dict)
    texts: tuple[str, ...] = ()


STATE_PAGES = {
    workflow.DRAFT: StatePage(
        _just(workflow.DRAFT), texts=("This is a draft: the practitioner cannot see it until you send it.",)
    ),
    workflow.REQUESTED: StatePage(_just(workflow.REQUESTED)),
    workflow.RECEIVED: StatePage(_just(workflow.RECEIVED)),
    workflow.ACCEPTED: StatePage(_just(workflow.ACCEPTED)),
    workflow.REJECTED: StatePage(_rejected, facts={"Reason for declining": DECLINE_REASON}),
    workflow.IN_PROGRESS: StatePage(
        _in_progress_with_a_no_show,
        facts={"First appointment": WINTER_APPOINTMENT, "Missed appointments": "1"},
        texts=("No-show (Wed 4 Mar 2026, 09:30 MST)",),
    ),
    workflow.ON_HOLD: StatePage(_on_hold, facts={"Reason for the hold": f"{HOLD_REASON} (it was accepted)"}),
    workflow.FAILED: StatePage(
        _failed_after_two_no_shows,
        facts={
            "First appointment": WINTER_APPOINTMENT,
            "Missed appointments": "2",
            "Why it ended": f"{workflow.FAILURE_REASONS['no-show']}: {FAILURE_NOTE}",
        },
        texts=("No-show (Wed 4 Mar 2026, 09:30 MST)", "No-show (Wed 11 Mar 2026, 09:30 MDT)"),
    ),
    workflow.COMPLETED: StatePage(
        _completed_with_an_outcome,
        facts={
            "First appointment": SUMMER_APPOINTMENT,
            "Summary": OUTCOME_NOTE,
            "Sessions attended": "6",
            "Last session": "2 Sep 2026",
            "Pain (0–10), first → last session": "7 → 2",
            "Patient's impression of change": f"2 – {PGIC_LABELS[2]}",
            "Return to the referrer": f"Suggested: {RETURN_REASON}",
        },
    ),
    workflow.CANCELLED: StatePage(_cancelled, facts={"Note": CANCEL_NOTE}),
    workflow.ENTERED_IN_ERROR: StatePage(_entered_in_error, facts={"Note": ERROR_NOTE}),
}


@dataclass
class Cast:
    """A provider, a practitioner and an admin, and one referral between the first two in each state."""

    emails: dict[str, str]
    referrals: dict[str, int]


def make_provider(live_site) -> str:
    """A verified healthcare provider who may send referrals; returns the email."""
    email = f"{unique('provider')}@clinic.example"
    with live_site.db():
        user = UserFactory(
            role=Role.PROVIDER,
            email=email,
            name=f"Dr Robin Referrer {unique('r')}",
            profession="Dentist",
            organization="Pearl Street Dental",
            registration_number="DDS-40417",
            provider_status=ProviderStatus.VERIFIED,
        )
        set_password(user, PASSWORD)
    return email


def make_cast(live_site) -> Cast:
    """New people (so that their lists hold these referrals alone) and a referral in every state."""
    emails = {REFERRER: make_provider(live_site), ADMIN: make_admin(live_site)}
    emails[RECIPIENT], _ = make_practitioner(live_site, f"Petra Practitioner {unique('p')}", conditions=["tmj"])
    referrals = {}
    with live_site.db() as session:
        provider = session.execute(db.select(User).filter_by(email=emails[REFERRER])).scalar_one()
        practitioner = session.execute(db.select(User).filter_by(email=emails[RECIPIENT])).scalar_one()
        for status, state in STATE_PAGES.items():
            referral = state.build(provider, practitioner)
            assert referral.status == status, f"built {referral.status!r} for {status!r}"
            referrals[status] = referral.id
    return Cast(emails, referrals)


# --- Browser tabs: one per party and width, shared by the states ------------------------------


@dataclass
class Tab:
    """A signed-in browser tab of one party, over a cast of its own."""

    journey: Journey
    cast: Cast


@pytest.fixture(scope="module")
def tabs(browser, live_site):
    """tabs(party, viewport): that party's signed-in tab at that width, opened on first use.

    Each tab has its own cast: the practitioner's first look at a `requested` referral opens it
    (`received`), so no tab may see what another one changed.
    """
    opened: dict[tuple[str, str], Tab] = {}

    def close_all() -> None:
        for open_tab in opened.values():
            open_tab.journey.page.context.close()
        opened.clear()

    def tab(party: str, viewport: str) -> Tab:
        if (party, viewport) not in opened:
            # The tests come grouped by width and party: one browser context open at a time.
            close_all()
            cast = make_cast(live_site)
            context = open_context(browser, live_site, viewport)
            journey = Journey(context.new_page(), live_site, f"referral-state-pages-{viewport}-{party}")
            opened[party, viewport] = Tab(journey, cast)
            sign_in(journey, cast.emails[party])
        return opened[party, viewport]

    yield tab
    close_all()


def assert_no_sideways_scroll(page, viewport: str, label: str) -> None:
    """Nothing on the page is wider than the window (at 375 px: than 375 px)."""
    scroll_width, client_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    width = VIEWPORTS[viewport]["viewport"]["width"]
    assert scroll_width <= min(client_width, width), (
        f"{label} scrolls sideways at {viewport} ({width} px): the page is {scroll_width} px wide"
    )


def described(page, term: str):
    """The description (<dd>) beside a term (<dt>) of the page's main content."""
    return page.locator(f'xpath=//main//dt[normalize-space()="{term}"]/following-sibling::dd[1]')


def list_row(page, referral_id: int):
    """The row of a referral in the list on the page (none when the list leaves it out)."""
    return page.locator("table.referrals tbody tr").filter(has=page.locator(f'a[href="/referrals/{referral_id}"]'))


# --- The tests ---------------------------------------------------------------------------------


def test_the_state_pages_cover_every_status_of_the_transition_table():
    statuses_in_table = {m.source for m in workflow.TRANSITIONS} | {m.target for m in workflow.TRANSITIONS}
    assert statuses_in_table - set(workflow.ACTIONS) == set(workflow.STATUSES)
    assert set(STATE_PAGES) == set(workflow.STATUSES), "describe the page of each status in STATE_PAGES"


@pytest.mark.parametrize("status", workflow.STATUSES)
@pytest.mark.parametrize("party", PARTIES)
def test_each_state_has_a_page_every_party_who_may_see_it_can_read(tabs, viewport, party, status):
    if status not in STATE_PAGES:
        pytest.fail(f"no page described for the status {status!r}: add it to STATE_PAGES")
    tab = tabs(party, viewport)
    journey, page = tab.journey, tab.journey.page
    journey.csp_errors.clear()  # one page's report, not an earlier page's
    referral_id = tab.cast.referrals[status]
    label = f"{status} as {party}"

    if party == RECIPIENT and status in NEVER_SHOWN_TO_RECIPIENT:
        # Not in the practitioner's list, and no page: 404, never a hint that it exists.
        journey.goto("/referrals/", f"list as {label}")
        assert list_row(page, tab.cast.referrals[workflow.RECEIVED]).count() == 1, "the practitioner's list is empty"
        assert list_row(page, referral_id).count() == 0, f"{label}: listed for the practitioner"
        response = journey.goto(f"/referrals/{referral_id}", f"{label}: not found")
        assert response.status == 404, f"{label}: answered {response.status}"
        assert PATIENT["name"] not in page.locator("main").inner_text()
        assert_no_sideways_scroll(page, viewport, label)
        return

    shown = status
    if party == RECIPIENT and status == workflow.REQUESTED:
        # Listed as sent; the practitioner's first look opens it.
        journey.goto("/referrals/", f"list as {label}")
        row = list_row(page, referral_id)
        assert row.count() == 1, f"{label}: missing from the practitioner's list"
        assert row.locator(".referral-status").inner_text() == workflow.STATUS_LABELS[workflow.REQUESTED]
        shown = workflow.RECEIVED
    if party == REFERRER and status == workflow.ENTERED_IN_ERROR:
        # Withdrawn from the practitioner, but still in the referrer's list.
        journey.goto("/referrals/", f"list as {label}")
        row = list_row(page, referral_id)
        assert row.count() == 1, f"{label}: missing from the referrer's list"
        assert row.locator(".referral-status").inner_text() == workflow.STATUS_LABELS[status]

    response = journey.goto(f"/referrals/{referral_id}", label)
    assert response.status == 200, f"{label}: answered {response.status}"
    assert f"Referral #{referral_id}" in page.locator("h1").inner_text()
    badge = page.locator("h1 .referral-status")
    assert badge.is_visible() and badge.inner_text() == workflow.STATUS_LABELS[shown], f"{label}: status label"
    explanation = page.locator(".referral-explanation")
    assert explanation.is_visible(), f"{label}: no explanation"
    assert explanation.inner_text() == workflow.STATUS_EXPLANATIONS[shown], f"{label}: explanation"
    state = STATE_PAGES[status]
    for term, text in state.facts.items():
        fact = described(page, term)
        assert fact.count() == 1 and fact.is_visible(), f"{label}: {term!r} is not shown"
        assert fact.inner_text().strip() == text, f"{label}: {term!r}"
    main = page.locator("main").inner_text()
    for text in state.texts:
        assert text in main, f"{label}: {text!r} is not shown"
    assert_no_sideways_scroll(page, viewport, label)
