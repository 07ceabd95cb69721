"""The search page is kept rendered (public/page_cache.py): drawn once per search, right for every visitor.

Kept pages must never show one visitor's shortlist, CSRF token or provider links to another, and
a change to what the page shows must be there on the next request, in this process and in every
other process sharing the store (Redis).
"""

from __future__ import annotations

import logging
import re
import secrets

import pytest
from sqlalchemy import update

from directory import create_app
from directory.extensions import cache, db
from directory.models import Practitioner, Role
from directory.public import page_cache
from tests.conftest import base_config, login
from tests.factories import PractitionerFactory, UserFactory
from tests.test_statement_counts import counting_statements

PAGE = "/search?near=80302"
REDIS_URL = "redis://127.0.0.1:6379/0"


def search_statements():
    """Count the statements that read the search index during the block: `counter["n"]`."""
    return counting_statements(reading="practice_locations")


def save_token(html: str) -> str:
    """The CSRF token of the page's Save buttons."""
    match = re.search(r'<form class="save-form[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert match, "no Save button on the page"
    return match.group(1)


def test_the_same_search_is_run_once_and_each_visitor_gets_their_own_token_and_shortlist(app):
    ana = PractitionerFactory(display_name="Ana Kept")
    PractitionerFactory(display_name="Ben Kept", latitude=40.03)
    first, second = app.test_client(), app.test_client()
    with search_statements() as counter:
        drawn = first.get(PAGE).get_data(as_text=True)
    assert counter["n"] > 0 and "Ana Kept" in drawn and "Compare your shortlist" not in drawn

    # The second visitor saves Ana from the kept page (its token is theirs), then asks again.
    token = save_token(second.get(PAGE).get_data(as_text=True))
    saved = second.post("/shortlist/add", data={"csrf_token": token, "practitioner_id": ana.id, "next": PAGE})
    assert saved.status_code == 302
    with search_statements() as counter:
        kept = second.get(PAGE).get_data(as_text=True)
    assert counter["n"] == 0, "the kept page was drawn again"
    assert 'Saved<span class="visually-hidden">: remove Ana Kept' in kept
    assert 'Save<span class="visually-hidden"> Ben Kept' in kept
    assert "Compare your shortlist (1)" in kept
    # Each page carries its own visitor's token, and the kept page's token works for a Save.
    assert save_token(kept) != save_token(drawn)
    assert "cst-csrf-token-stand-in" not in kept and "<!--cst:" not in kept
    again = first.get(PAGE).get_data(as_text=True)
    assert "Compare your shortlist" not in again and "Saved<span" not in again
    posted = first.post(
        "/shortlist/add", data={"csrf_token": save_token(again), "practitioner_id": ana.id, "next": PAGE}
    )
    assert posted.status_code == 302


def test_a_provider_s_refer_links_are_never_shown_to_anyone_else(app):
    PractitionerFactory(display_name="Ana Kept")
    provider = app.test_client()
    login(provider, UserFactory(role=Role.PROVIDER))
    assert "Refer a patient" in provider.get(PAGE).get_data(as_text=True)
    assert "Refer a patient" not in app.test_client().get(PAGE).get_data(as_text=True)


def test_a_change_to_what_the_page_shows_is_there_on_the_next_request(app, client):
    ana = PractitionerFactory(display_name="Ana Kept")
    assert "Ana Kept" in client.get(PAGE).get_data(as_text=True)

    ana.display_name = "Ana Renamed"  # an edit through the ORM (the editor, the API, a review)
    db.session.commit()
    assert "Ana Renamed" in client.get(PAGE).get_data(as_text=True)

    db.session.execute(update(Practitioner).where(Practitioner.id == ana.id).values(display_name="Ana Bulk"))
    db.session.commit()  # a bulk statement through the session
    assert "Ana Bulk" in client.get(PAGE).get_data(as_text=True)

    PractitionerFactory(display_name="Cleo New", latitude=40.02)
    db.session.commit()
    assert "Cleo New" in client.get(PAGE).get_data(as_text=True)

    ana.published = False
    db.session.commit()
    assert "Ana Bulk" not in client.get(PAGE).get_data(as_text=True)


def test_a_write_elsewhere_keeps_the_pages_and_a_rolled_back_one_too(app, client):
    PractitionerFactory(display_name="Ana Kept")
    client.get(PAGE)
    UserFactory(role=Role.PROVIDER)  # an account, not a listing: the page does not read it
    db.session.commit()
    with search_statements() as counter:
        client.get(PAGE)
    assert counter["n"] == 0
    practitioner = db.session.execute(db.select(Practitioner)).scalar_one()
    practitioner.display_name = "Never Committed"
    db.session.flush()
    db.session.rollback()
    with search_statements() as counter:
        assert "Never Committed" not in client.get(PAGE).get_data(as_text=True)
    assert counter["n"] == 0


def test_errors_and_missing_pages_are_drawn_each_time_and_the_cache_can_be_turned_off(database_url, tmp_path, app):
    PractitionerFactory(display_name="Ana Kept")
    client = app.test_client()
    assert client.get("/search?near=80302&radius=abc").status_code == 400
    assert client.get("/search?near=80302&radius=abc").status_code == 400
    assert client.get("/search?near=80302&page=9").status_code == 404
    with search_statements() as counter:
        assert client.get("/search?near=80302&page=9").status_code == 404
    assert counter["n"] > 0, "a missing page is looked up again (the next commit may fill it)"

    off = create_app({**base_config(database_url, str(tmp_path)), "SEARCH_PAGE_CACHE_SECONDS": 0})
    off_client = off.test_client()
    with off.app_context():
        for _ in range(2):
            with search_statements() as counter:
                assert off_client.get(PAGE).status_code == 200
            assert counter["n"] > 0


def test_a_store_that_fails_draws_the_page_and_says_so_in_the_log(database_url, tmp_path, caplog):
    config = {**base_config(database_url, str(tmp_path)), "CACHE_TYPE": "RedisCache"}
    app = create_app({**config, "CACHE_REDIS_URL": "redis://127.0.0.1:1/0"})
    with app.app_context():
        PractitionerFactory(display_name="Ana Kept")
        db.session.commit()  # renewing the generation fails too: the commit stands
        caplog.set_level(logging.WARNING, logger="directory.public.page_cache")
        response = app.test_client().get(PAGE)
        assert response.status_code == 200 and "Ana Kept" in response.get_data(as_text=True)
    assert any("cannot be read" in r.getMessage() for r in caplog.records)


@pytest.fixture
def two_processes(database_url, tmp_path):
    """Two apps (as two gunicorn workers or two machines would be) sharing one Redis store."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is needed at {REDIS_URL} (CI runs it)")
    prefix = f"cst-test-{secrets.token_hex(4)}:"
    config = {**base_config(database_url, str(tmp_path)), "CACHE_REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    config.pop("CACHE_TYPE", None)
    apps = create_app(dict(config)), create_app(dict(config))
    yield apps
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)
    connection.close()


def test_processes_sharing_redis_share_the_pages_and_see_a_change_at_once(app, two_processes):
    one, other = two_processes
    assert one.config["CACHE_TYPE"] == "RedisCache"
    with one.app_context():
        ana = PractitionerFactory(display_name="Ana Shared")
        db.session.commit()
        ana_id = ana.id
        assert "Ana Shared" in one.test_client().get(PAGE).get_data(as_text=True)
    with other.app_context():
        with search_statements() as counter:
            assert "Ana Shared" in other.test_client().get(PAGE).get_data(as_text=True)
        assert counter["n"] == 0, "the other process drew the page again"
    with one.app_context():
        db.session.get(Practitioner, ana_id).display_name = "Ana Changed"
        db.session.commit()  # written through the first process...
    with other.app_context():
        assert "Ana Changed" in other.test_client().get(PAGE).get_data(as_text=True)  # ...seen by the second
        db.session.remove()


@pytest.mark.parametrize("store", ["FileSystemCache", "RedisCache", "SimpleCache"])
def test_sites_on_different_databases_never_share_kept_pages(tmp_path, store):
    """One folder or one Redis may serve several sites (tests, benchmarks, staging): what one site
    keeps, another on a different database never reads (the file store ignores key prefixes, so
    it gets a folder per database; this failed in the browser journeys, whose two workers shared
    instance/cache)."""

    def site(name: str):
        config = {**base_config("sqlite:///" + str(tmp_path / name), str(tmp_path)), "CACHE_TYPE": store}
        return create_app({**config, "CACHE_DIR": str(tmp_path / "cache"), "CACHE_REDIS_URL": REDIS_URL})

    one, same, other = site("a.sqlite"), site("a.sqlite"), site("b.sqlite")
    with one.app_context():
        cache.set(page_cache.GENERATION_KEY, "kept-by-a")
    with other.app_context():
        assert cache.get(page_cache.GENERATION_KEY) != "kept-by-a"
    if store != "SimpleCache":  # memory is one process's own
        with same.app_context():
            assert cache.get(page_cache.GENERATION_KEY) == "kept-by-a"
    with one.app_context():
        cache.delete(page_cache.GENERATION_KEY)


def test_metrics_count_the_pages_answered_from_the_kept_copy_and_those_drawn(app, client):
    PractitionerFactory(display_name="Ana Kept")
    for _ in range(3):
        client.get(PAGE)
    client.get("/search?near=80301")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'cst_search_page_cache_total{result="hit"} 2.0' in text
    assert 'cst_search_page_cache_total{result="miss"} 2.0' in text


def test_a_lost_generation_never_brings_back_a_page_kept_before_it(app, client):
    """A file store prunes files past CACHE_THRESHOLD and Redis may evict keys: when the generation
    is lost, the pages kept under any earlier one must stay unreachable (this failed in the browser
    journeys, where a pruned generation served a page kept before the journey's practitioners)."""
    assert "Ana" not in client.get(PAGE).get_data(as_text=True)  # kept before anything was committed
    ana = PractitionerFactory(display_name="Ana Kept")
    db.session.commit()
    assert "Ana Kept" in client.get(PAGE).get_data(as_text=True)
    ana.display_name = "Ana Renamed"
    db.session.commit()
    assert "Ana Renamed" in client.get(PAGE).get_data(as_text=True)
    for _ in range(2):
        cache.delete(page_cache.GENERATION_KEY)  # lost, as pruning or eviction would lose it
        page = client.get(PAGE).get_data(as_text=True)
        assert "Ana Renamed" in page and "Ana Kept" not in page


def test_a_file_store_keeps_the_generation_between_processes(database_url, tmp_path):
    """The default store outside tests: files, shared by every worker of one machine."""
    config = {**base_config(database_url, str(tmp_path)), "TESTING": False, "CACHE_DIR": str(tmp_path / "cache")}
    one, other = create_app(dict(config)), create_app(dict(config))
    assert one.config["CACHE_TYPE"] == "FileSystemCache"
    with one.app_context():
        PractitionerFactory(display_name="Ana Filed")
        db.session.commit()
        assert "Ana Filed" in one.test_client().get(PAGE).get_data(as_text=True)
        first = cache.get(page_cache.GENERATION_KEY)
    with other.app_context():
        assert cache.get(page_cache.GENERATION_KEY) == first
        with search_statements() as counter:
            assert "Ana Filed" in other.test_client().get(PAGE).get_data(as_text=True)
        assert counter["n"] == 0
        db.session.remove()


def test_a_page_kept_yesterday_is_drawn_again_today(app, client, monkeypatch):
    """Verifications lapse at midnight UTC (the search's `today()`): the key carries that date."""
    from datetime import timedelta

    PractitionerFactory(display_name="Ana Kept")
    client.get(PAGE)
    with search_statements() as counter:
        client.get(PAGE)
    assert counter["n"] == 0
    tomorrow = page_cache.today() + timedelta(days=1)
    monkeypatch.setattr(page_cache, "today", lambda: tomorrow)
    with search_statements() as counter:
        client.get(PAGE)
    assert counter["n"] > 0
