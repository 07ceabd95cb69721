"""Opening hours of a practice location: what people type, the one stored form, and how it reads.

A location stores its hours as one line per opening, "Mon 09:00-17:00", sorted Monday to
Sunday and then by time; a day may have several openings ("Mon 09:00-12:00", "Mon 14:00-18:00");
"" means the hours are not stated. `parse_opening_hours` turns what a practitioner types
("Mon-Fri 9-17; Sat 10-13", "Tue, Thu 08:30–19:00", "Mon–Fri 9am–5pm") into that form, or
raises FieldError with a message for them; `openings` reads the stored form back, and
`hours_by_day` and `summary_lines` word it for people.
"""

from __future__ import annotations

import re

from directory.practitioners.rules import FieldError

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_OPENINGS = 28
MAX_TYPED_CHARS = 2000
EXAMPLE = "e.g. Mon-Fri 9:00-17:00; Sat 10:00-13:00"

# Every word accepted for a day (English names, full or short), and words for several days.
_DAY_WORDS = {name.lower(): i for i, name in enumerate(DAY_NAMES)} | {short.lower(): i for i, short in enumerate(DAYS)}
_DAY_WORDS |= {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
_DAY_GROUPS = {
    "weekdays": range(5),
    "weekends": range(5, 7),
    "weekend": range(5, 7),
    "daily": range(7),
    "everyday": range(7),
}
_CLOSED = {"closed", "off", "shut"}
_TIME = r"\d{1,2}(?:[:.h]?\d{2}|h)?\s*(?:[ap]\.?m\.?)?"
_RANGE_RE = re.compile(rf"({_TIME})\s*(?:-|to|until|till)\s*({_TIME})", re.IGNORECASE)
_TIME_RE = re.compile(r"(\d{1,2})(?:[:.h]?(\d{2})|h)?\s*(?:([ap])\.?m\.?)?", re.IGNORECASE)
_DAY_RANGE_RE = re.compile(r"^([a-z]+)\.?\s*(?:-|to|through|thru)\s*([a-z]+)\.?$", re.IGNORECASE)
# Days named after a time start a new entry: "Mon-Fri 9-17, Sat 10-13" is two ("Tue, Thu 9-17" one).
_NEXT_DAYS_RE = re.compile(
    r"(\d|[ap]\.?m\.?)\s*(?:,|&|\band\b)?\s*(?=(?:mon|tue|wed|thu|fri|sat|sun|week|daily|every))", re.IGNORECASE
)
_STORED_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([0-2]\d:[0-5]\d)-([0-2]\d:[0-5]\d)$")


def _clean(text: str) -> str:
    """One kind of dash, single spaces on each line; "every day" as one word."""
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text.replace("\r", "\n"))
    text = re.sub(r"every\s+day", "everyday", text, flags=re.IGNORECASE)
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _day(word: str, entry: str) -> int:
    """The index (Monday = 0) of one day word; FieldError for anything else."""
    index = _DAY_WORDS.get(word.strip().rstrip(".").lower())
    if index is None:
        raise FieldError(
            f"We do not recognise {word.strip()[:30]!r} as a day in {entry[:60]!r}. "
            "Use Mon, Tue, Wed, Thu, Fri, Sat, Sun or the full names."
        )
    return index


def _days(spec: str, entry: str) -> list[int]:
    """The days of "mon-fri", "tue, thu", "monday to friday", "weekdays"; FieldError when none or unknown."""
    spec = spec.strip().rstrip(":").strip()
    if not spec:
        raise FieldError(f"Say which day {entry[:60]!r} is for, {EXAMPLE}.")
    days: list[int] = []
    for item in re.split(r"\s*(?:,|&|/|\+|\band\b)\s*", spec, flags=re.IGNORECASE):
        if not item:
            continue
        if item.lower() in _DAY_GROUPS:
            days.extend(_DAY_GROUPS[item.lower()])
            continue
        span = _DAY_RANGE_RE.match(item)
        if span:
            first, last = _day(span[1], entry), _day(span[2], entry)
            # "Fri-Mon" wraps over the weekend.
            days.extend(range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)])
        else:
            days.append(_day(item, entry))
    return list(dict.fromkeys(days))


def _minutes(typed: str, suffix_of_end: str | None = None) -> tuple[int, str | None]:
    """(minutes after midnight, "a"/"p" or None) of one typed time; FieldError when it is not a time."""
    match = _TIME_RE.fullmatch(typed.strip())
    message = f"{typed.strip()!r} is not a time. Use 24-hour times such as 9, 09:30 or 17:30 (or 9am, 5:30pm)."
    if not match:
        raise FieldError(message)
    hour, minute, suffix = int(match[1]), int(match[2] or 0), match[3]
    if minute > 59:
        raise FieldError(message)
    if suffix:
        if not 1 <= hour <= 12:
            raise FieldError(message)
        hour = hour % 12 + (12 if suffix.lower() == "p" else 0)
    elif suffix_of_end and 1 <= hour <= 12:
        # "9-5pm": the start takes the end's am/pm when that puts it before the end.
        hour = hour % 12 + (12 if suffix_of_end.lower() == "p" else 0)
    if hour > 24 or (hour == 24 and minute):
        raise FieldError(message)
    return hour * 60 + minute, suffix


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _range(start_typed: str, end_typed: str) -> tuple[int, int]:
    """An opening's (start, end) in minutes; FieldError when it closes before it opens."""
    end, end_suffix = _minutes(end_typed)
    start, start_suffix = _minutes(start_typed)
    if start_suffix is None and end_suffix is not None:
        shifted, _ = _minutes(start_typed, end_suffix)
        if shifted < end:
            start = shifted
    if start >= 24 * 60:
        raise FieldError(f"{start_typed.strip()!r} is not an opening time. Use 00:00 to 23:59.")
    if end <= start:
        raise FieldError(
            f"{start_typed.strip()}-{end_typed.strip()} closes before it opens ({_clock(start)} to {_clock(end)}). "
            "Use 24-hour times, e.g. 9-17, or am and pm, e.g. 9am-5pm."
        )
    return start, end


def _times(text: str, entry: str) -> list[tuple[int, int]]:
    """The openings of "9-12, 14-18" or "9am to 5pm"; FieldError when something else is left over."""
    ranges = [_range(m[1], m[2]) for m in _RANGE_RE.finditer(text)]
    rest = _RANGE_RE.sub(" ", text)
    if not ranges or re.sub(r"(?:,|&|\band\b|\s)+", "", rest, flags=re.IGNORECASE):
        raise FieldError(f"We could not read the times in {entry[:60]!r}. Write them as opening-closing, {EXAMPLE}.")
    return ranges


def _entry(entry: str) -> list[tuple[int, int, int]]:
    """(day, start, end) openings of one typed entry such as "mon-fri 9-17" or "sun closed"."""
    first_digit = re.search(r"\d", entry)
    if first_digit is None:
        words = entry.rstrip(".").split()
        if words and words[-1].lower() in _CLOSED:
            _days(" ".join(words[:-1]), entry)  # the days must still be days
            return []
        raise FieldError(f"Give the times for {entry[:60]!r}, {EXAMPLE}.")
    days = _days(entry[: first_digit.start()], entry)
    return [(day, start, end) for day in days for start, end in _times(entry[first_digit.start() :], entry)]


def parse_opening_hours(text) -> str:
    """Typed opening hours as stored: one "Mon 09:00-17:00" line per opening, Monday first; "" when blank.

    Entries are separated by lines or semicolons; each names days (Mon..Sun or full names,
    "Mon-Fri", "Tue, Thu", "weekdays") and one or more openings in 24-hour time or am/pm.
    Refused with a message: an unknown day, a time that is not one, closing before opening,
    openings of one day that overlap, and more than 28 openings.
    """
    text = "" if text is None else str(text)
    if len(text) > MAX_TYPED_CHARS:
        raise FieldError(f"Use at most {MAX_TYPED_CHARS} characters (this has {len(text)}).")
    text = _NEXT_DAYS_RE.sub(r"\1;", _clean(text))
    found: set[tuple[int, int, int]] = set()
    for entry in re.split(r"[;\n]", text):
        entry = entry.strip(" ,.")
        if entry:
            found.update(_entry(entry))
    openings = sorted(found)
    if len(openings) > MAX_OPENINGS:
        raise FieldError(f"Give at most {MAX_OPENINGS} openings a week (this has {len(openings)}).")
    for (day, start, end), (next_day, next_start, next_end) in zip(openings, openings[1:], strict=False):
        if day == next_day and next_start < end:
            raise FieldError(
                f"On {DAY_NAMES[day]}, {_clock(start)}-{_clock(end)} and "
                f"{_clock(next_start)}-{_clock(next_end)} overlap. Give each opening once."
            )
    return "\n".join(f"{DAYS[day]} {_clock(start)}-{_clock(end)}" for day, start, end in openings)


def openings(stored: str | None) -> list[tuple[int, str, str]]:
    """The stored hours as (day index with Monday = 0, "09:00", "17:00"); lines of another form are skipped."""
    found = []
    for line in (stored or "").splitlines():
        match = _STORED_RE.match(line.strip())
        if match:
            found.append((DAYS.index(match[1]), match[2], match[3]))
    return found


def hours_by_day(stored: str | None) -> list[tuple[str, list[str]]]:
    """One row per open day: ("Monday", ["09:00–12:00", "14:00–18:00"]), Monday first."""
    rows: dict[int, list[str]] = {}
    for day, start, end in openings(stored):
        rows.setdefault(day, []).append(f"{start}\u2013{end}")
    return [(DAY_NAMES[day], times) for day, times in sorted(rows.items())]


def summary_lines(stored: str | None) -> list[str]:
    """The hours in a few lines, consecutive days with the same times together: "Monday–Friday 09:00–17:00"."""
    rows: dict[int, tuple[str, ...]] = {}
    for day, start, end in openings(stored):
        rows[day] = (*rows.get(day, ()), f"{start}\u2013{end}")
    lines: list[str] = []
    days = sorted(rows)
    while days:
        first = last = days.pop(0)
        while days and days[0] == last + 1 and rows[days[0]] == rows[first]:
            last = days.pop(0)
        named = DAY_NAMES[first] if first == last else f"{DAY_NAMES[first]}\u2013{DAY_NAMES[last]}"
        lines.append(f"{named} {', '.join(rows[first])}")
    return lines
