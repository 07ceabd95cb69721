"""The test fixtures' own promises: a bug in them fails tests at random, far from its cause."""

from __future__ import annotations

import gc

import sqlalchemy as sa

from directory import create_app
from tests.conftest import _ENGINES, base_config, close_idle_engines


def test_an_app_dropped_by_its_test_keeps_its_engine_until_the_teardown_closes_it(database_url, tmp_path):
    """An app made in a test is cyclic garbage once dropped: its engine must still be closed, not collected open."""

    def ask_once() -> int:
        return create_app(base_config(database_url, str(tmp_path))).test_client().get("/readyz").status_code

    assert ask_once() == 200
    gc.collect()  # an unclosed PostgreSQL connection collected here is a ResourceWarning, an error
    assert _ENGINES, "the engine is held until the teardown disposes of it"


def test_an_engine_with_a_connection_in_use_is_disposed_only_once_it_is_returned(database_url):
    """A module's app context can hold a transaction across tests: its connection must not be orphaned."""
    engine = sa.create_engine(database_url)
    connection = engine.connect()
    connection.execute(sa.text("SELECT 1"))
    close_idle_engines()
    assert engine in _ENGINES
    connection.close()  # returned to the engine's own pool, which the next teardown closes
    close_idle_engines()
    assert engine not in _ENGINES
    del engine, connection
    gc.collect()
