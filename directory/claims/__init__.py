"""Claims review (issue 12): screening what practitioners write, holding flagged text for an admin.

- `screening`: finding the phrases in a text, tolerant of spelling tricks, as whole words;
- `defaults`: the phrase list the migration seeds, with explanations;
- `texts`: the profile's texts that patients read, by key;
- `service`: hold, review, approve, reject;
- `forms`: the admin's forms.
"""

from __future__ import annotations

from markupsafe import Markup, escape


def highlight_flags(text: str, flags) -> Markup:
    """The text, escaped, with each flagged span (dicts or Flags with start and end) in <mark>."""
    text = text or ""
    spans = sorted({(f["start"], f["end"]) if isinstance(f, dict) else (f.start, f.end) for f in flags})
    out, at = [], 0
    for start, end in spans:
        if start < at or end > len(text):
            continue
        out.append(escape(text[at:start]))
        out.append(Markup('<mark class="claim-flag">') + escape(text[start:end]) + Markup("</mark>"))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)
