"""The referrer's summary (issue 13, "For the referrer"): its figures against a seeded set of
referrals whose answers are worked out by hand below, its privacy, its SVG charts, and the
patient's consent confirmed on a draft's own page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from directory.extensions import db
from directory.models import Referral
from directory.referrals import workflow
from directory.referrals.summary import provider_summary
from directory.referrals.workflow import add_working_days, working_days_between
from tests.conftest import csrf_token_from, login
from tests.referral_helpers import make_referral

SVG = "{http://www.w3.org/2000/svg}"


def at(day: int, hour: int, month: int = 3) -> datetime:
    """A moment in March 2026 (UTC). 2 March 2026 is a Monday."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


# --- Working days, as the overdue rule counts them ----------------------------------------------


def test_working_days_between_counts_as_the_overdue_rule_does():
    monday = at(2, 9)
    assert working_days_between(monday, at(2, 15)) == 0  # the same day
    assert working_days_between(monday, at(3, 8)) == 0  # not a whole working day yet
    assert working_days_between(monday, at(3, 9)) == 1
    assert working_days_between(monday, at(9, 9)) == 5  # a week later
    assert working_days_between(at(6, 12), at(9, 11)) == 0  # Friday noon to Monday 11:00
    assert working_days_between(at(6, 12), at(9, 12)) == 1
    assert working_days_between(at(7, 10), at(9, 10)) == 1  # from a Saturday: Monday is the first
    assert working_days_between(at(9, 9), monday) == 0  # backwards
    for start in (monday, at(6, 17), at(7, 10), at(8, 23)):
        for n in range(0, 40):
            end = add_working_days(start, n)
            assert working_days_between(start, end) == n
            assert working_days_between(start, end - timedelta(seconds=1)) == max(n - 1, 0)
    # The overdue rule agrees: overdue after more than 3 working days, never before 3 have passed.
    since = at(5, 9)  # a Thursday
    for hours in range(0, 24 * 9):
        now = since + timedelta(hours=hours)
        overdue = workflow.is_overdue(workflow.REQUESTED, since, now)
        if working_days_between(since, now) >= 4:
            assert overdue, now
        if working_days_between(since, now) < 3:
            assert not overdue, now


# --- The seeded set, with its answers worked out by hand ----------------------------------------


def _dated(referral: Referral, sent: datetime, accepted: datetime | None = None, appointment: datetime | None = None):
    """Give a referral known dates: sent, first accepted (its `accepted` event) and first appointment."""
    referral.created_at = sent
    for event in referral.events:
        if event.status == workflow.ACCEPTED and not event.kind and accepted is not None:
            event.at = accepted
    if appointment is not None:
        referral.appointment_at = appointment


def _outcome(referral: Referral, pain_start=None, pain_end=None, pgic=None):
    referral.outcome_pain_start = pain_start
    referral.outcome_pain_end = pain_end
    referral.outcome_pgic = pgic


@pytest.fixture
def seeded(app, provider_user, other_provider_user, practitioner_user, other_practitioner_user):
    """Twelve referrals by the provider (ten sent) to two practitioners, one by another provider.

    Working days from sent to accepted / to the first appointment, pain first → last, PGIC:
      A completed  Pat    Mon 2 09:00 → Wed 4 10:00 = 2 · → Mon 9 09:00 = 5 · 8 → 3 (−5) · PGIC 2
      B completed  Pat    Fri 6 12:00 → Tue 10 11:00 = 1 · → Fri 20 12:00 = 10 · 6 → 5 (−1) · PGIC 3
      C completed  Pat    Mon 2 09:00 → Mon 2 15:00 = 0 · → Tue 3 08:00 = 0 · 5 → none · PGIC 2
      D in-progress Pat   Thu 5 09:00 → Mon 9 09:00 = 2 · → Wed 11 09:00 = 4
      E accepted   Pat    Mon 2 09:00 → Mon 16 09:00 = 10
      F requested, G rejected (never accepted), I draft, J sent in error (not sent): Pat
      H failed     Pat    Mon 2 09:00 → Tue 3 09:00 = 1
      K completed  Olive  Mon 2 09:00 → Fri 6 09:00 = 4 · → Mon 9 09:00 = 5 · 7 → 7 (0) · PGIC 4
      L cancelled  Olive
      M completed  Pat, by the OTHER provider: PGIC 7, pain 2 → 9, accepted after 30 days.
    """
    olive = other_practitioner_user.practitioner
    olive.display_name = 'Olive "O" & <Other>'  # the charts must escape it
    db.session.commit()
    pat, p = practitioner_user, provider_user
    made = {}
    made["A"] = make_referral(p, pat, workflow.COMPLETED)
    _dated(made["A"], at(2, 9), at(4, 10), at(9, 9))
    _outcome(made["A"], 8, 3, 2)
    made["B"] = make_referral(p, pat, workflow.COMPLETED)
    _dated(made["B"], at(6, 12), at(10, 11), at(20, 12))
    _outcome(made["B"], 6, 5, 3)
    made["C"] = make_referral(p, pat, workflow.COMPLETED)
    _dated(made["C"], at(2, 9), at(2, 15), at(3, 8))
    _outcome(made["C"], 5, None, 2)
    made["D"] = make_referral(p, pat, workflow.IN_PROGRESS)
    _dated(made["D"], at(5, 9), at(9, 9), at(11, 9))
    made["E"] = make_referral(p, pat, workflow.ACCEPTED)
    _dated(made["E"], at(2, 9), at(16, 9))
    made["F"] = make_referral(p, pat, workflow.REQUESTED)
    made["G"] = make_referral(p, pat, workflow.REJECTED)
    made["H"] = make_referral(p, pat, workflow.FAILED)
    _dated(made["H"], at(2, 9), at(3, 9))
    made["I"] = make_referral(p, pat, workflow.DRAFT)
    made["J"] = make_referral(p, pat, workflow.ENTERED_IN_ERROR)
    made["K"] = make_referral(p, other_practitioner_user, workflow.COMPLETED)
    _dated(made["K"], at(2, 9), at(6, 9), at(9, 9))
    _outcome(made["K"], 7, 7, 4)
    made["L"] = make_referral(p, other_practitioner_user, workflow.CANCELLED)
    made["M"] = make_referral(other_provider_user, pat, workflow.COMPLETED)
    _dated(made["M"], at(2, 9), at(13, 9, month=4), at(20, 9, month=4))
    _outcome(made["M"], 2, 9, 7)
    db.session.commit()
    return made


def test_the_figures_match_the_answers_worked_out_by_hand(
    seeded, provider_user, practitioner_user, other_practitioner_user
):
    summary = provider_summary(provider_user)
    everything = summary.overall
    assert everything.counts == {
        "completed": 4,
        "in-progress": 1,
        "accepted": 1,
        "requested": 1,
        "rejected": 1,
        "failed": 1,
        "draft": 1,
        "entered-in-error": 1,
        "cancelled": 1,
    }
    assert (everything.total, everything.sent, everything.completed) == (12, 10, 4)
    assert everything.completed_share == pytest.approx(0.4)
    # Accepted: A2 B1 C0 D2 E10 H1 K4 → 0 1 1 [2] 2 4 10.
    assert sorted(everything.days_to_accepted) == [0, 1, 1, 2, 2, 4, 10]
    assert everything.median_days_to_accepted == 2
    # First appointment: A5 B10 C0 D4 K5 → 0 4 [5] 5 10.
    assert sorted(everything.days_to_appointment) == [0, 4, 5, 5, 10]
    assert everything.median_days_to_appointment == 5
    # Pain: A −5, B −1, K 0 (C has no last rating) → −5 [−1] 0.
    assert sorted(everything.pain_changes) == [-5, -1, 0]
    assert everything.median_pain_change == -1
    assert everything.pgic == {1: 0, 2: 2, 3: 1, 4: 1, 5: 0, 6: 0, 7: 0}

    pat_id, olive_id = practitioner_user.practitioner.id, other_practitioner_user.practitioner.id
    assert [g.key for g in summary.practitioners] == [f"p{pat_id}", f"p{olive_id}"]  # most referred first
    pat, olive = summary.practitioners
    assert pat.name == "Pat Practitioner"
    assert (pat.total, pat.sent, pat.completed) == (10, 8, 3)
    assert pat.completed_share == pytest.approx(3 / 8)
    # 0 1 1 | 2 2 10 → 1.5;  0 4 | 5 10 → 4.5;  −5 −1 → −3.
    assert pat.median_days_to_accepted == 1.5
    assert pat.median_days_to_appointment == 4.5
    assert pat.median_pain_change == -3
    assert pat.pgic == {1: 0, 2: 2, 3: 1, 4: 0, 5: 0, 6: 0, 7: 0}
    assert olive.name == 'Olive "O" & <Other>'
    assert olive.counts == {"completed": 1, "cancelled": 1}
    assert olive.completed_share == pytest.approx(0.5)
    assert (olive.median_days_to_accepted, olive.median_days_to_appointment, olive.median_pain_change) == (4, 5, 0)
    assert olive.pgic[4] == 1 and olive.pgic_answers == 1


def test_the_page_shows_the_figures(seeded, client, provider_user, practitioner_user):
    login(client, provider_user)
    index = client.get("/referrals/").get_data(as_text=True)
    assert 'href="/referrals/summary"' in index  # reached from the provider's referrals
    response = client.get("/referrals/summary")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    def figure(name: str) -> str:
        match = re.search(rf'id="figure-{name}">(.*?)</dd>', html, re.S)
        assert match, name
        return re.sub(r"<[^>]+>", "", match.group(1)).split()

    assert figure("sent")[:1] == ["10"] and "1 draft" in " ".join(figure("sent"))
    assert figure("completed")[:4] == ["40%", "(4", "of", "10)"]
    assert figure("accepted")[:1] == ["2"]
    assert figure("appointment")[:1] == ["5"]
    assert figure("pain")[:1] == ["−1"]
    row = re.search(rf'<tr data-practitioner="p{practitioner_user.practitioner.id}">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
    assert cells == ["Pat Practitioner", "8", "38% (3 of 8)", "1.5", "4.5", "−3", "3"]
    # The other provider's referral (PGIC 7, pain +7) is nowhere.
    assert "+7" not in html


def test_the_charts_are_valid_svg_with_a_title_and_a_table_of_the_same_figures(seeded, client, provider_user):
    login(client, provider_user)
    html = client.get("/referrals/summary").get_data(as_text=True)
    charts = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert len(charts) == 4  # the states; PGIC for all, for Pat, for Olive
    parsed = [ET.fromstring(chart) for chart in charts]  # valid XML, names escaped
    for svg in parsed:
        assert svg.tag == f"{SVG}svg"
        assert svg.get("role") == "img"
        title = svg.find(f"{SVG}title")
        assert title is not None and title.text
        assert title.get("id") in svg.get("aria-labelledby").split()
        assert svg.find(f"{SVG}desc") is not None
        assert "script" not in ET.tostring(svg, encoding="unicode").lower()
    states = parsed[0]
    tips = {t.text for t in states.iter(f"{SVG}title")}
    assert "Pat Practitioner: Completed 3" in tips
    assert 'Olive "O" & <Other>: Cancelled 1' in tips
    assert "All practitioners: Completed 4" in tips
    pgic_all = {t.text for t in parsed[1].iter(f"{SVG}title")}
    assert "2 – Much improved: 2" in pgic_all and "7 – Very much worse: 0" in pgic_all
    # Bars on one scale: the tallest bar (2 answers) is twice the height of a bar of 1.
    heights = {
        r.find(f"{SVG}title").text: float(r.get("height"))
        for r in parsed[1].iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    }
    assert heights["2 – Much improved: 2"] == 2 * heights["3 – Minimally improved: 1"]
    # The same figures, as tables for screen readers and everyone.
    assert '<table class="table table-sm referral-summary-states">' in html
    pgic_table = re.search(r'referral-summary-pgic">(.*?)</table>', html, re.S).group(1)
    assert re.search(r"2 – Much improved</th><td>2</td><td>2</td><td>0</td>", pgic_table)
    assert "https://" not in "".join(charts) and "<script" not in html.split("<main", 1)[-1].split("</main>")[0]


# --- Privacy ------------------------------------------------------------------------------------


def test_another_provider_sees_nothing_of_them(seeded, client, other_provider_user, provider_user):
    summary = provider_summary(other_provider_user)
    assert summary.overall.counts == {"completed": 1}
    assert summary.overall.pgic[7] == 1 and summary.overall.pgic_answers == 1
    assert summary.overall.pain_changes == [7]
    assert [g.name for g in summary.practitioners] == ["Pat Practitioner"]
    login(client, other_provider_user)
    html = client.get("/referrals/summary").get_data(as_text=True)
    assert "Olive" not in html
    assert "+7" in html and "(1 of 1)" in html
    # And the provider's own summary holds nothing of the other provider's referral.
    mine = provider_summary(provider_user)
    assert mine.overall.pgic[7] == 0 and 7 not in mine.overall.pain_changes and 30 not in mine.overall.days_to_accepted


def test_a_provider_without_referrals_sees_an_empty_summary(app, client, provider_user):
    login(client, provider_user)
    response = client.get("/referrals/summary")
    assert response.status_code == 200
    assert "You have not written any referrals yet" in response.get_data(as_text=True)
    assert "<svg" not in response.get_data(as_text=True)


def test_only_providers_have_a_summary(seeded, app, practitioner_user, admin_user):
    anonymous = app.test_client()
    response = anonymous.get("/referrals/summary")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    for user in (practitioner_user, admin_user):
        client = app.test_client()
        login(client, user)
        response = client.get("/referrals/summary")
        assert response.status_code == 404, user.email
        assert "Pat Practitioner" not in response.get_data(as_text=True)


# --- Consent confirmed on the draft's own page --------------------------------------------------


def test_the_referrer_confirms_consent_on_the_draft_page(app, client, provider_user, practitioner_user):
    draft = make_referral(provider_user, practitioner_user, workflow.DRAFT, consent=False)
    login(client, provider_user)
    page = client.get(f"/referrals/{draft.id}").get_data(as_text=True)
    assert f'action="/referrals/{draft.id}/consent"' in page
    token = csrf_token_from(page)
    # Without the CSRF token: refused, nothing changes.
    assert client.post(f"/referrals/{draft.id}/consent", data={"consent": "y"}).status_code == 400
    # Without ticking the box: refused with a message.
    response = client.post(f"/referrals/{draft.id}/consent", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Tick the box to confirm the patient&#39;s consent." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, draft.id).consent is False
    response = client.post(f"/referrals/{draft.id}/consent", data={"csrf_token": token, "consent": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, draft.id).consent is True
    assert db.session.get(Referral, draft.id).status == workflow.DRAFT  # confirmed, not sent
    page = client.get(f"/referrals/{draft.id}").get_data(as_text=True)
    assert "consent is confirmed" in page and f'action="/referrals/{draft.id}/consent"' not in page


def test_nobody_else_may_confirm_consent(app, provider_user, other_provider_user, practitioner_user, admin_user):
    draft = make_referral(provider_user, practitioner_user, workflow.DRAFT, consent=False)
    sent = make_referral(provider_user, practitioner_user)
    for user in (other_provider_user, practitioner_user, admin_user, None):
        client = app.test_client()
        if user is not None:
            login(client, user)
        with client.session_transaction() as session:
            session["csrf_token"] = "x" * 40
        token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps("x" * 40)
        for referral in (draft, sent):
            response = client.post(f"/referrals/{referral.id}/consent", data={"csrf_token": token, "consent": "y"})
            assert response.status_code == 404, (user and user.email, referral.status)
    db.session.expire_all()
    assert db.session.get(Referral, draft.id).consent is False
    # The referrer, on a referral already sent: a clear refusal.
    client = app.test_client()
    login(client, provider_user)
    page = client.get(f"/referrals/{sent.id}").get_data(as_text=True)
    response = client.post(f"/referrals/{sent.id}/consent", data={"csrf_token": csrf_token_from(page), "consent": "y"})
    assert response.status_code == 409
    assert "consent was confirmed when it was sent" in response.get_data(as_text=True)


def test_with_one_practitioner_the_charts_do_not_repeat_themselves(app, client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, workflow.COMPLETED)
    _outcome(referral, 6, 2, 1)
    db.session.commit()
    login(client, provider_user)
    html = client.get("/referrals/summary").get_data(as_text=True)
    charts = [ET.fromstring(chart) for chart in re.findall(r"<svg\b.*?</svg>", html, re.S)]
    assert len(charts) == 2  # the states, and PGIC once
    assert "1 – Very much improved: 1" in {t.text for t in charts[1].iter(f"{SVG}title")}
    assert "−4" in html and "100% (1 of 1)" in html
