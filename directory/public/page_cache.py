"""The search page, kept rendered for a short while: the same search is not run and drawn again.

Under load nearly all of the search page's time is the search's statements and the drawing of
its twenty cards and the filter form (about 20 ms at 100,000 practitioners, against under 1 ms
for a page of the layout alone). The page is the same for everyone who asks the same search,
but for three things: the visitor's shortlist (the "Compare your shortlist" line, and each
card's Save / Saved button), the CSRF token in those buttons, and the "Refer a patient" links a
signed-in provider sees. So what is kept is the page's body with a *hole* for each of the first
two (both variants of each button are kept, with a stand-in for the token), under a key that
holds the third; each answer fills the holes for its visitor and draws the layout around it.

The key is the query string as asked, provider or not, today's date in UTC (a credential's
verification lapses at midnight UTC, as the search counts it) and the directory's *generation*: a token renewed after every
commit that wrote a table the page reads (practitioners, their locations, credentials,
conditions, certifying bodies), so a change shows at once, on every process sharing the cache.
A write that goes around the ORM session (raw SQL by hand) shows within
SEARCH_PAGE_CACHE_SECONDS (default 60; 0 turns the cache off).

The store is Flask-Caching's: Redis when CACHE_REDIS_URL is set (shared by every process and
machine), else files under instance/cache (shared by the processes of one machine). If the
store fails, the page is drawn as if nothing were kept, and the failure is logged.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field

from flask import current_app, has_app_context, render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from directory.extensions import cache
from directory.models.base import today

log = logging.getLogger(__name__)

GENERATION_KEY = "search-page:generation"
CSRF_STAND_IN = "cst-csrf-token-stand-in"
HOLE_RE = re.compile(r"<!--cst:(shortlist|save:(\d+))-->")
# The tables the search page reads; a commit that wrote one of them renews the generation.
TABLES_SHOWN = frozenset(
    {
        "practitioners",
        "practice_locations",
        "practitioner_conditions",
        "certifications",
        "certifying_bodies",
        "credentials",
        "conditions",
    }
)


@dataclass
class Entry:
    """One search's page as kept: the body with holes, and what filling them and the layout need."""

    status: int
    title: str
    has_hits: bool
    parts: list[str]  # the body cut at its holes: text, hole, text, ... (a hole is "shortlist" or a practitioner id)
    shortlist_href: str | None = None
    buttons: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (Save, Saved) with the stand-in


def seconds() -> int:
    """How long a page is kept (0: not at all)."""
    return int(current_app.config.get("SEARCH_PAGE_CACHE_SECONDS", 0) or 0)


def _key() -> str | None:
    """This request's key, or None when nothing may be kept (the cache off, or the store failing)."""
    if seconds() <= 0:
        return None
    try:
        generation = _generation()
    except Exception:  # noqa: BLE001  (a store that fails must not fail the page)
        log.warning("search page cache: the store cannot be read", exc_info=True)
        return None
    if generation is None:
        return None
    provider = bool(current_user.is_authenticated and current_user.is_provider)
    raw = "\n".join(
        (generation, today().isoformat(), "provider" if provider else "", request.query_string.decode("latin-1"))
    )
    return "search-page:" + hashlib.sha256(raw.encode()).hexdigest()


def _generation() -> str | None:
    """The current generation; a new one when the store has lost it (evicted, pruned, never set).

    Never a fixed default: pages kept under an earlier generation must not come back when the
    key is lost (a file store prunes at CACHE_THRESHOLD files, Redis may evict under memory
    pressure). None when the store cannot keep it at all: then nothing is kept.
    """
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), timeout=0)  # another process may win
        generation = cache.get(GENERATION_KEY)
    return generation


def lookup() -> tuple[str | None, Entry | None]:
    """(this request's key, the kept page or None), counted in /metrics as a hit or a miss."""
    key = _key()
    if key is None:
        return None, None
    try:
        entry = cache.get(key)
    except Exception:  # noqa: BLE001
        log.warning("search page cache: the store cannot be read", exc_info=True)
        return None, None
    entry = entry if isinstance(entry, Entry) else None
    counter = current_app.extensions.get("ops.search_page_cache")
    if counter is not None:
        counter.labels("hit" if entry is not None else "miss").inc()
    return key, entry


def keep(key: str | None, entry: Entry) -> None:
    """Keep a page that answered 200 (errors and missing pages are drawn each time)."""
    if key is None or entry.status != 200:
        return
    try:
        cache.set(key, entry, timeout=seconds())
    except Exception:  # noqa: BLE001
        log.warning("search page cache: the store cannot be written", exc_info=True)


def save_button_hole(p, number: int | None = None) -> Markup:
    """In a body being kept: both variants of the card's Save button, and a hole where one goes."""
    buttons = request.environ.setdefault("cst.save_buttons", {})
    if p.id not in buttons:
        buttons[p.id] = tuple(
            render_template("public/_save_button.html", p=p, number=number, saved=saved, csrf=CSRF_STAND_IN)
            for saved in (False, True)
        )
    return Markup(f"<!--cst:save:{int(p.id)}-->")  # noqa: S704  (an integer in a comment)


def draw(render_body, status: int, title: str, has_hits: bool, shortlist_href: str | None) -> Entry:
    """Draw the body once (`render_body()`), collecting the buttons its cards asked for."""
    request.environ["cst.save_buttons"] = {}
    parts = HOLE_RE.split(render_body())
    # split() gives, per hole, both groups: keep one name per hole ("shortlist" or the id).
    cut = [parts[0]]
    for i in range(1, len(parts), 3):
        cut += [parts[i + 1] or parts[i], parts[i + 2]]
    return Entry(status, title, has_hits, cut, shortlist_href, request.environ.pop("cst.save_buttons"))


def fill(entry: Entry, saved_ids, csrf_token: str) -> Markup:
    """The body for this visitor: their shortlist line, their buttons, their CSRF token."""
    saved = set(saved_ids)
    out = []
    for index, part in enumerate(entry.parts):
        if index % 2 == 0:
            out.append(part)
        elif part == "shortlist":
            if saved and entry.shortlist_href is not None:
                out.append(render_template("public/_shortlist_line.html", href=entry.shortlist_href, count=len(saved)))
        else:
            save, unsave = entry.buttons.get(int(part), ("", ""))
            out.append((unsave if int(part) in saved else save).replace(CSRF_STAND_IN, csrf_token))
    # The parts and the buttons are templates' own (escaped) output; the token is URL-safe base64.
    return Markup("".join(out))  # noqa: S704


# --- the generation: renewed after a commit that wrote a table the page shows -----------------


def renew_generation() -> None:
    """Every kept page is stale from now on (called after such commits, and by bulk writers)."""
    if not has_app_context():
        return
    try:
        cache.set(GENERATION_KEY, secrets.token_hex(8), timeout=0)
    except Exception:  # noqa: BLE001  (the commit is done; kept pages expire by themselves)
        log.warning("search page cache: the generation could not be renewed", exc_info=True)


def _note(session: Session, table_name: str | None) -> None:
    if table_name in TABLES_SHOWN:
        session.info["search_page_stale"] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:  # noqa: ARG001
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__table__", None)
        _note(session, getattr(table, "name", None))


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    """`session.execute(insert/update/delete(Model)...)` writes without a flush of instances."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _note(state.session, getattr(table, "name", None))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("search_page_stale", False):
        renew_generation()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("search_page_stale", None)
