"""Opening hours: what practitioners type becomes one stored form, read back the same way, or a clear refusal."""

from __future__ import annotations

import pytest

from directory.practitioners.hours import (
    MAX_OPENINGS,
    hours_by_day,
    openings,
    parse_opening_hours,
    summary_lines,
)
from directory.practitioners.rules import FieldError

WEEKDAYS_9_TO_5 = "Mon 09:00-17:00\nTue 09:00-17:00\nWed 09:00-17:00\nThu 09:00-17:00\nFri 09:00-17:00"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Mon-Fri 9-17", WEEKDAYS_9_TO_5),
        ("Mon–Fri 9:00–17:00", WEEKDAYS_9_TO_5),
        ("mon-fri 09:00 - 17:00", WEEKDAYS_9_TO_5),
        ("Monday to Friday 9-17", WEEKDAYS_9_TO_5),
        ("Monday–Friday: 9am–5pm", WEEKDAYS_9_TO_5),
        ("MON-FRI 9AM-5PM", WEEKDAYS_9_TO_5),
        ("Mon-Fri 9-5pm", WEEKDAYS_9_TO_5),
        ("weekdays 0900-1700", WEEKDAYS_9_TO_5),
        ("Mon, Tue, Wed, Thu, Fri 9-17", WEEKDAYS_9_TO_5),
        ("Fri 9-17\nThu 9-17\nWed 9-17\nTue 9-17\nMon 9-17", WEEKDAYS_9_TO_5),
        ("Mon–Fri 9:00–17:30; Sat 10-13", WEEKDAYS_9_TO_5.replace("17:00", "17:30") + "\nSat 10:00-13:00"),
        ("Mon-Fri 9-17, Sat 10-13", WEEKDAYS_9_TO_5 + "\nSat 10:00-13:00"),
        ("Mon-Fri 9-17\r\nSat 10-13\r\nSun closed", WEEKDAYS_9_TO_5 + "\nSat 10:00-13:00"),
        ("Tue, Thu 08:30-19:00", "Tue 08:30-19:00\nThu 08:30-19:00"),
        ("Tuesday & Thursday 8.30-19.00", "Tue 08:30-19:00\nThu 08:30-19:00"),
        ("Mon 9-12, 14-18", "Mon 09:00-12:00\nMon 14:00-18:00"),
        ("Mon 14-18; Mon 9-12", "Mon 09:00-12:00\nMon 14:00-18:00"),
        ("Mon 9-12 and Wed 14:00-16:30", "Mon 09:00-12:00\nWed 14:00-16:30"),
        ("Sat 10am-1pm", "Sat 10:00-13:00"),
        ("Sun 12pm-3:30pm", "Sun 12:00-15:30"),
        ("Sun 11-2pm", "Sun 11:00-14:00"),
        ("Fri-Mon 10-16", "Mon 10:00-16:00\nFri 10:00-16:00\nSat 10:00-16:00\nSun 10:00-16:00"),
        ("Wed 0-24", "Wed 00:00-24:00"),
        ("every day 8-20", "\n".join(f"{d} 08:00-20:00" for d in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))),
        ("Mon-Fri 9-17; Mon 9-17", WEEKDAYS_9_TO_5),  # the same opening twice is one opening
        ("", ""),
        ("  \n ; ", ""),
        (None, ""),
    ],
)
def test_what_people_type_is_stored_as_one_line_per_opening_monday_first(typed, stored):
    assert parse_opening_hours(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["Mon-Fri 9-17; Sat 10-13", "Tue, Thu 8:30am-7pm", "Mon 9-12, 14-18; Sun 10-11", "every day 0-24", ""],
)
def test_the_stored_form_reads_back_unchanged(typed):
    stored = parse_opening_hours(typed)
    assert parse_opening_hours(stored) == stored
    assert (
        "\n".join(f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[d]} {a}-{b}" for d, a, b in openings(stored))
        == stored
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Mon 17-9", "17-9 closes before it opens (17:00 to 09:00)"),
        ("Mon-Fri 9-5", "closes before it opens (09:00 to 05:00). Use 24-hour times"),
        ("Sat 22:00-02:00", "closes before it opens"),
        ("Mon 9-9", "closes before it opens"),
        ("Funday 9-17", "We do not recognise 'Funday' as a day"),
        ("Lundi 9-17", "We do not recognise 'Lundi' as a day"),
        ("Mon-Someday 9-17", "We do not recognise 'Someday' as a day"),
        ("Mon 25-26", "'26' is not a time"),
        ("Mon 9:75-17", "'9:75' is not a time"),
        ("Mon 13pm-14pm", "'14pm' is not a time"),
        ("Mon 24-24:00", "'24' is not an opening time"),
        ("Mon 9-12, 11-14", "On Monday, 09:00-12:00 and 11:00-14:00 overlap"),
        ("Mon-Fri 9-17; Wed 12-13", "On Wednesday, 09:00-17:00 and 12:00-13:00 overlap"),
        ("9-17", "Say which day '9-17' is for"),
        ("Mon", "Give the times for 'Mon'"),
        ("Mon open", "Give the times for 'Mon open'"),
        ("Mon 9-17 lunch", "We could not read the times in 'Mon 9-17 lunch'"),
        ("Mon 9 to", "We could not read the times"),
        ("daily 8-9, 10-11, 12-13, 14-15, 16-17", f"Give at most {MAX_OPENINGS} openings a week (this has 35)"),
        ("Mon 9-17; " * 300, "Use at most 2000 characters"),
    ],
)
def test_anything_else_is_refused_with_a_message_for_the_practitioner(typed, message):
    with pytest.raises(FieldError) as error:
        parse_opening_hours(typed)
    assert message in str(error.value)


def test_twenty_eight_openings_a_week_are_allowed():
    stored = parse_opening_hours("daily 8-9, 10-11, 12-13, 14-15")
    assert len(openings(stored)) == MAX_OPENINGS


def test_openings_give_day_indexes_and_times():
    stored = parse_opening_hours("Sat 10-13; Mon 9-12, 14-18")
    assert openings(stored) == [(0, "09:00", "12:00"), (0, "14:00", "18:00"), (5, "10:00", "13:00")]
    assert openings("") == openings(None) == []
    # A line of another form (typed into the database by hand) is skipped, not shown wrongly.
    assert openings("Mon 09:00-17:00\nsometimes\nTue 9-5") == [(0, "09:00", "17:00")]


def test_hours_read_by_day_with_full_day_names():
    stored = parse_opening_hours("Mon-Wed 9-17; Wed 18-20; Sat 10-13")
    assert hours_by_day(stored) == [
        ("Monday", ["09:00–17:00"]),
        ("Tuesday", ["09:00–17:00"]),
        ("Wednesday", ["09:00–17:00", "18:00–20:00"]),
        ("Saturday", ["10:00–13:00"]),
    ]
    assert hours_by_day("") == []


def test_the_summary_groups_consecutive_days_with_the_same_hours():
    stored = parse_opening_hours("Mon-Fri 9-17; Sat 10-13; Sun 10-13; Wed 18-20")
    assert summary_lines(stored) == [
        "Monday–Tuesday 09:00–17:00",
        "Wednesday 09:00–17:00, 18:00–20:00",
        "Thursday–Friday 09:00–17:00",
        "Saturday–Sunday 10:00–13:00",
    ]
    assert summary_lines(parse_opening_hours("Tue, Thu 9-17")) == ["Tuesday 09:00–17:00", "Thursday 09:00–17:00"]
    assert summary_lines("") == []
