"""Where a form may send the browser back to: a `next` link is followed only when it stays on this site.

Shared by the sign-in (after signing in) and the public pages (after saving to the shortlist), so the
rule lives in one place and no view module imports another to reach it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str | None:
    """The `next` link to follow when it is a path on this site, else None.

    Nothing is removed or repaired first: browsers and Werkzeug drop tabs and newlines and read
    a backslash as a slash, so "/<tab>/evil.example" or "/\\evil.example" would leave the site.
    Only printable ASCII without spaces or backslashes, starting with exactly one "/", with no
    scheme or host when parsed, is followed.
    """
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    if any(not ("!" <= char <= "~") for char in target) or "\\" in target:
        return None  # control characters, whitespace, non-ASCII, backslashes
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return target
