"""Brute force: sign-in and password reset are rate limited per account and per address,
in memory by default and in Redis when RATELIMIT_STORAGE_URI says so."""

from __future__ import annotations

import uuid

import pytest
import redis

from directory import create_app
from directory.accounts.passwords import hash_password
from directory.extensions import db, limiter
from tests.conftest import base_config, reset_database, submit_form
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
REDIS_URL = "redis://127.0.0.1:6379/0"


def limited(database_url: str, tmp_path, **settings):
    """An app with rate limits on and the given limits."""
    return create_app({**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True, **settings})


@pytest.fixture
def limited_app(database_url, tmp_path):
    """Sign-in: 3 failures per account and 5 per address a minute; reset: 2 per account, 3 per address."""
    app = limited(
        database_url,
        tmp_path,
        LOGIN_RATE_LIMIT_PER_ACCOUNT="3 per minute",
        LOGIN_RATE_LIMIT_PER_ADDRESS="5 per minute",
        RESET_RATE_LIMIT_PER_ACCOUNT="2 per minute",
        RESET_RATE_LIMIT_PER_ADDRESS="3 per minute",
    )
    with app.app_context():
        reset_database()
        yield app
        db.session.remove()
        db.engine.dispose()


def client_at(app, address: str):
    """A browser at an IP address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_in(client, email: str, password: str):
    return submit_form(client, "/account/login", {"email": email, "password": password})


def account(email: str):
    return UserFactory(email=email, password_hash=hash_password(PASSWORD))


def test_failed_sign_ins_lock_the_account_even_when_tried_from_many_addresses(limited_app):
    account("target@example.org")
    account("bystander@example.org")
    for n in range(3):
        assert (
            sign_in(client_at(limited_app, f"198.51.100.{n}"), "target@example.org", "wrong guess!!").status_code == 400
        )
    locked = sign_in(client_at(limited_app, "198.51.100.99"), "target@example.org", PASSWORD)
    assert locked.status_code == 429 and "Too many attempts" in locked.get_data(as_text=True)
    # Another account from the same address is not affected.
    assert sign_in(client_at(limited_app, "198.51.100.0"), "bystander@example.org", PASSWORD).status_code == 302


def test_failed_sign_ins_lock_the_address_across_accounts(limited_app):
    account("real@example.org")
    attacker = client_at(limited_app, "203.0.113.7")
    for n in range(5):
        assert sign_in(attacker, f"guess{n}@example.org", "wrong guess!!").status_code == 400
    assert sign_in(attacker, "real@example.org", PASSWORD).status_code == 429
    assert sign_in(client_at(limited_app, "203.0.113.8"), "real@example.org", PASSWORD).status_code == 302


def test_successful_sign_ins_do_not_count_against_the_limits(limited_app):
    account("regular@example.org")
    for _ in range(6):
        browser = client_at(limited_app, "192.0.2.50")
        assert sign_in(browser, "regular@example.org", PASSWORD).status_code == 302


def test_a_locked_account_and_an_unknown_email_get_the_same_answer(limited_app):
    account("exists@example.org")
    answers = {}
    for n, email in enumerate(["exists@example.org", "missing@example.org"]):
        for attempt in range(3):
            sign_in(client_at(limited_app, f"192.0.2.{n * 10 + attempt}"), email, "wrong guess!!")
        answers[email] = sign_in(client_at(limited_app, f"192.0.2.{n * 10 + 9}"), email, "wrong guess!!")
    known, unknown = answers["exists@example.org"], answers["missing@example.org"]
    assert known.status_code == unknown.status_code == 429
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)


def test_password_reset_requests_are_limited_per_account_and_per_address(limited_app):
    account("reset.me@example.org")
    for n in range(2):
        browser = client_at(limited_app, f"198.51.100.{n}")
        assert submit_form(browser, "/account/forgot-password", {"email": "reset.me@example.org"}).status_code == 302
    third = submit_form(
        client_at(limited_app, "198.51.100.2"), "/account/forgot-password", {"email": "reset.me@example.org"}
    )
    assert third.status_code == 429

    flooder = client_at(limited_app, "203.0.113.50")
    for n in range(3):
        assert submit_form(flooder, "/account/forgot-password", {"email": f"n{n}@example.org"}).status_code == 302
    assert submit_form(flooder, "/account/forgot-password", {"email": "n9@example.org"}).status_code == 429


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the local Redis, whose keys are removed afterwards."""
    prefix = f"cst-test-{uuid.uuid4().hex}"
    connection = redis.Redis.from_url(REDIS_URL)
    yield prefix, connection
    for key in connection.scan_iter(match=f"*{prefix}*"):
        connection.delete(key)
    connection.close()
    # Flask-Limiter keeps the first key prefix it was given across init_app calls.
    limiter._key_prefix = ""


def test_sign_in_limits_are_kept_in_redis_and_shared_between_app_processes(database_url, tmp_path, redis_prefix):
    prefix, connection = redis_prefix
    settings = {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_RATE_LIMIT_PER_ACCOUNT": "2 per minute",
    }
    first = limited(database_url, tmp_path, **settings)
    with first.app_context():
        reset_database()
        account("shared@example.org")
        for n in range(2):
            assert sign_in(client_at(first, f"192.0.2.{n}"), "shared@example.org", "wrong guess!!").status_code == 400
        assert list(connection.scan_iter(match=f"*{prefix}*")), "no rate-limit keys in Redis"
        db.session.remove()
        db.engine.dispose()

    # A second app (another worker process) sees the same counts.
    second = limited(database_url, tmp_path, **settings)
    with second.app_context():
        assert sign_in(client_at(second, "192.0.2.77"), "shared@example.org", PASSWORD).status_code == 429
        db.session.remove()
        db.engine.dispose()


def _locked_out_after_failures(app, addresses: list[str]) -> list[int]:
    """Sign-in failures for different accounts, each from the given address: the answers' statuses."""
    statuses = []
    with app.app_context():
        reset_database()
        for i, address in enumerate(addresses):
            account(f"someone{i}@example.org")
            client = client_at(app, "10.0.0.1")  # the reverse proxy
            client.environ_base["HTTP_X_FORWARDED_FOR"] = address
            statuses.append(sign_in(client, f"someone{i}@example.org", "wrong password").status_code)
        db.session.remove()
        db.engine.dispose()
    return statuses


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(database_url, tmp_path):
    app = limited(database_url, tmp_path, LOGIN_RATE_LIMIT_PER_ADDRESS="2 per minute", TRUSTED_PROXIES=1)
    statuses = _locked_out_after_failures(app, ["203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2"])
    assert statuses == [400, 400, 429, 400]  # the third try from one client; another client is not locked out


def test_without_trusted_proxies_a_forged_forwarded_for_header_changes_nothing(database_url, tmp_path):
    app = limited(database_url, tmp_path, LOGIN_RATE_LIMIT_PER_ADDRESS="2 per minute")
    statuses = _locked_out_after_failures(app, ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert statuses == [400, 400, 429]  # every request came from 10.0.0.1, whatever the header said
