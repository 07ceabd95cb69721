"""The referring provider's summary: how their referrals fare, overall and per practitioner.

For one provider's own referrals only (the query names them; nobody else's ever enter):

- how many are in each status (an SQL count per practitioner and status);
- the median working days from sent to accepted and from sent to the first appointment, counted
  as the overdue rule counts them (workflow.working_days_between);
- the share completed, of the referrals sent (drafts and those withdrawn as sent in error are
  not referrals the practitioner could complete);
- for the completed ones, the median change in pain (last − first session, on the 0–10 scale:
  below zero is better) and the PGIC distribution (an SQL count per practitioner and PGIC).

The medians are read in one pass over the provider's most recent MEDIAN_SAMPLE sent referrals
(`capped` says when there were more). The charts are laid out here and drawn as SVG by
templates/referrals/_charts.html: no script, nothing from another site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Referral, ReferralEvent, User
from directory.referrals import workflow
from directory.referrals.outcome import PGIC, PGIC_LABELS

# The medians read at most this many referrals (the most recently sent).
MEDIAN_SAMPLE = 5000
# Statuses of referrals that were never really sent to the practitioner.
NOT_SENT = (workflow.DRAFT, workflow.ENTERED_IN_ERROR)
PGIC_VALUES = tuple(range(PGIC[0], PGIC[1] + 1))

# Each status's colour in the charts: distinct hues (Okabe–Ito first), each with its label in a legend
# and the same figures in a table, so no reader depends on the colour.
STATUS_FILLS = {
    workflow.DRAFT: "#c8c8c8",
    workflow.REQUESTED: "#0072b2",
    workflow.RECEIVED: "#56b4e9",
    workflow.ACCEPTED: "#009e73",
    workflow.IN_PROGRESS: "#7fd3b9",
    workflow.ON_HOLD: "#f0e442",
    workflow.COMPLETED: "#332288",
    workflow.REJECTED: "#d55e00",
    workflow.FAILED: "#cc79a7",
    workflow.CANCELLED: "#6f6f6f",
    workflow.ENTERED_IN_ERROR: "#e69f00",
}
# PGIC bars: improvement in blue, no change in grey, worse in orange.
PGIC_FILLS = {1: "#08519c", 2: "#3182bd", 3: "#6baed6", 4: "#8c8c8c", 5: "#fdae6b", 6: "#e6550d", 7: "#a63603"}


@dataclass
class Figures:
    """The summary of one group of referrals (one practitioner's, or all of them)."""

    key: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    pgic: dict[int, int] = field(default_factory=lambda: dict.fromkeys(PGIC_VALUES, 0))
    days_to_accepted: list[int] = field(default_factory=list)
    days_to_appointment: list[int] = field(default_factory=list)
    pain_changes: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Every referral of the group, drafts included."""
        return sum(self.counts.values())

    @property
    def sent(self) -> int:
        """The referrals really sent (not drafts, not withdrawn as sent in error)."""
        return sum(n for status, n in self.counts.items() if status not in NOT_SENT)

    @property
    def completed(self) -> int:
        return self.counts.get(workflow.COMPLETED, 0)

    @property
    def completed_share(self) -> float | None:
        """Completed ÷ sent (None when none was sent)."""
        return self.completed / self.sent if self.sent else None

    @property
    def median_days_to_accepted(self) -> float | None:
        return median(self.days_to_accepted) if self.days_to_accepted else None

    @property
    def median_days_to_appointment(self) -> float | None:
        return median(self.days_to_appointment) if self.days_to_appointment else None

    @property
    def median_pain_change(self) -> float | None:
        return median(self.pain_changes) if self.pain_changes else None

    @property
    def pgic_answers(self) -> int:
        return sum(self.pgic.values())


@dataclass
class Summary:
    """A provider's summary: all their referrals, then one group per practitioner (most referred first)."""

    overall: Figures
    practitioners: list[Figures]
    capped: bool = False


def provider_summary(provider: User) -> Summary:
    """The summary of the referrals this provider sent (and their drafts): three statements."""
    groups: dict[str, Figures] = {}
    overall = Figures(key="all", name="All practitioners")

    mine = Referral.referrer_id == provider.id
    count_rows = db.session.execute(
        select(Referral.practitioner_id, Referral.practitioner_name, Referral.status, func.count())
        .where(mine)
        .group_by(Referral.practitioner_id, Referral.practitioner_name, Referral.status)
    ).all()
    # A practitioner still on the site is one group under one name (if it changed: the last alphabetically).
    names: dict[int, str] = {}
    for practitioner_id, name, _status, _n in count_rows:
        if practitioner_id is not None:
            names[practitioner_id] = max(names.get(practitioner_id, ""), name or "")

    def group(practitioner_id: int | None, name: str) -> Figures:
        shown = names.get(practitioner_id, "") if practitioner_id is not None else name or ""
        key = f"p{practitioner_id}" if practitioner_id is not None else f"name:{shown}"
        if key not in groups:
            groups[key] = Figures(key=key, name=shown or "Practitioner no longer listed")
        return groups[key]

    for practitioner_id, name, status, n in count_rows:
        for figures in (group(practitioner_id, name), overall):
            figures.counts[status] = figures.counts.get(status, 0) + n

    pgic_rows = db.session.execute(
        select(Referral.practitioner_id, Referral.practitioner_name, Referral.outcome_pgic, func.count())
        .where(mine, Referral.status == workflow.COMPLETED, Referral.outcome_pgic.in_(PGIC_VALUES))
        .group_by(Referral.practitioner_id, Referral.practitioner_name, Referral.outcome_pgic)
    ).all()
    for practitioner_id, name, pgic, n in pgic_rows:
        for figures in (group(practitioner_id, name), overall):
            figures.pgic[pgic] += n

    # When each referral was first accepted: its earliest change of status to `accepted`.
    accepted = (
        select(ReferralEvent.referral_id, func.min(ReferralEvent.at).label("at"))
        .where(ReferralEvent.status == workflow.ACCEPTED, ReferralEvent.kind == "")
        .group_by(ReferralEvent.referral_id)
        .subquery()
    )
    sample = db.session.execute(
        select(
            Referral.practitioner_id,
            Referral.practitioner_name,
            Referral.status,
            Referral.created_at,
            accepted.c.at,
            Referral.appointment_at,
            Referral.outcome_pain_start,
            Referral.outcome_pain_end,
        )
        .outerjoin(accepted, accepted.c.referral_id == Referral.id)
        .where(mine, Referral.status.not_in(NOT_SENT))
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(MEDIAN_SAMPLE + 1)
    ).all()
    capped = len(sample) > MEDIAN_SAMPLE
    for row in sample[:MEDIAN_SAMPLE]:
        practitioner_id, name, status, sent_at, accepted_at, appointment_at, pain_start, pain_end = row
        for figures in (group(practitioner_id, name), overall):
            if accepted_at is not None:
                figures.days_to_accepted.append(workflow.working_days_between(sent_at, accepted_at))
            if appointment_at is not None:
                figures.days_to_appointment.append(workflow.working_days_between(sent_at, appointment_at))
            if status == workflow.COMPLETED and pain_start is not None and pain_end is not None:
                figures.pain_changes.append(pain_end - pain_start)

    ordered = sorted(groups.values(), key=lambda f: (-f.total, f.name.lower(), f.key))
    return Summary(overall=overall, practitioners=ordered, capped=capped)


# --- Charts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One rectangle of a chart, with what it stands for (its tooltip and its legend)."""

    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str


@dataclass(frozen=True)
class Label:
    """One text of a chart."""

    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass
class Chart:
    """What an SVG chart draws, in the units of its viewBox."""

    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    swatches: list[tuple[Bar, Label]] = field(default_factory=list)


def _short(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def states_chart(groups: list[Figures]) -> Chart:
    """A stacked bar per group: its referrals in each status, on one scale (the largest group)."""
    label_w, bar_w, row_h, gap, width = 130, 215, 22, 8, 380
    largest = max((g.total for g in groups), default=0) or 1
    chart = Chart(width=width, height=0)
    y = 4
    for g in groups:
        chart.labels.append(Label(label_w - 8, y + row_h * 0.7, _short(g.name, 18), "end"))
        x = float(label_w)
        for status in workflow.STATUSES:
            n = g.counts.get(status, 0)
            if not n:
                continue
            w = bar_w * n / largest
            chart.bars.append(
                Bar(
                    round(x, 2),
                    y,
                    round(w, 2),
                    row_h,
                    STATUS_FILLS[status],
                    f"{g.name}: {workflow.STATUS_LABELS[status]} {n}",
                )
            )
            x += w
        chart.labels.append(Label(round(x + 6, 2), y + row_h * 0.7, str(g.total)))
        y += row_h + gap
    # The legend: the statuses that appear, two to a line.
    present = [s for s in workflow.STATUSES if any(g.counts.get(s) for g in groups)]
    y += 6
    for i, status in enumerate(present):
        col, line = i % 2, i // 2
        sx, sy = 10 + col * 185, y + line * 20
        chart.swatches.append(
            (
                Bar(sx, sy, 12, 12, STATUS_FILLS[status], workflow.STATUS_LABELS[status]),
                Label(sx + 18, sy + 10.5, workflow.STATUS_LABELS[status]),
            )
        )
    chart.height = int(y + ((len(present) + 1) // 2) * 20 + 4)
    return chart


def pgic_chart(figures: Figures) -> Chart:
    """Seven bars, one per PGIC answer (1 very much improved … 7 very much worse), on one scale."""
    left, bar_w, step, top, plot_h, width = 10, 34, 44, 18, 90, 330
    largest = max(figures.pgic.values(), default=0) or 1
    chart = Chart(width=width, height=top + plot_h + 40)
    base = top + plot_h
    for i, value in enumerate(PGIC_VALUES):
        n = figures.pgic[value]
        h = plot_h * n / largest
        x = left + i * step
        chart.bars.append(
            Bar(x, round(base - h, 2), bar_w, round(h, 2), PGIC_FILLS[value], f"{value} – {PGIC_LABELS[value]}: {n}")
        )
        chart.labels.append(Label(x + bar_w / 2, round(base - h - 4, 2), str(n), "middle"))
        chart.labels.append(Label(x + bar_w / 2, base + 14, str(value), "middle"))
    chart.labels.append(Label(left, base + 32, "← improved"))
    chart.labels.append(Label(left + 6 * step + bar_w, base + 32, "worse →", "end"))
    chart.bars.append(Bar(left - 2, base, 6 * step + bar_w + 4, 1, "#333333", ""))
    return chart
