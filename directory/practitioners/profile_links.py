"""The public profile's action links: back to the search results, call, directions, initials.

Registered as template globals (see photo_views), so the profile template asks for a link and
the rules stay here.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from flask import request, url_for

MAX_QUERY_LENGTH = 2000


def results_url() -> str | None:
    """The search results the visitor came from, or None when they did not come from a search.

    A result links to the profile with `from=<the search's query string>`; without it, a Referer
    naming this site's search page is used. Either way only a query string for the search page is
    kept, re-encoded, so the link can never lead off the site.
    """
    query = request.args.get("from", "")
    if not query:
        referrer = urlsplit(request.referrer or "")
        if referrer.netloc != request.host or referrer.path != url_for("public.search"):
            return None
        query = referrer.query
    if not query or len(query) > MAX_QUERY_LENGTH:
        return None
    pairs = parse_qsl(query, keep_blank_values=True)
    return url_for("public.search") + ("?" + urlencode(pairs) if pairs else "")


def tel_href(phone: str | None) -> str | None:
    """A tel: link for a phone number as written ("+1 (303) 555-0100" -> "tel:+13035550100")."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    return f"tel:{digits}" if re.search(r"\d", digits) else None


def directions_href(location) -> str:
    """A link that opens directions to a practice location in the visitor's map app or site."""
    destination = f"{location.latitude:.6f},{location.longitude:.6f}"
    return "https://www.google.com/maps/dir/?api=1&destination=" + quote(destination, safe=",")


def initials(name: str | None) -> str:
    """Up to two initials of a name, shown in place of a photo ("Ana María López" -> "AL")."""
    words = [word for word in re.split(r"[\s\-]+", name or "") if word[:1].isalpha()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()
