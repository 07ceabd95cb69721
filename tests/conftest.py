"""Fixtures: the app on a real, migrated database (SQLite by default, PostgreSQL when
DATABASE_URL says so), a clean database for every test, clients and role helpers."""

from __future__ import annotations

import contextvars
import io
import os
import re
import tempfile

import pytest
import sqlalchemy as sa
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from directory import create_app
from directory.extensions import db

REFERENCE_TABLES = ("conditions", "certifying_bodies", "credentials", "claim_phrases")


def new_database(label: str) -> str:
    """A new database named by label (a worker, a module): a SQLite file, or a PostgreSQL database next to DATABASE_URL's."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgresql", "postgres")):
        url = sa.engine.make_url(url.replace("postgres://", "postgresql+psycopg://", 1))
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        # One database per test process, so that parallel runs never share one.
        name = f"{url.database}_{label}_{os.getpid()}"
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return url.set(database=name).render_as_string(hide_password=False)
    folder = tempfile.mkdtemp(prefix="cst-tests-")
    return "sqlite:///" + os.path.join(folder, f"test-{label}.sqlite")


def base_config(database_url: str, tmp_dir: str) -> dict:
    """Test settings: a real database, CSRF on, rate limits off unless a test turns them on."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": os.path.join(tmp_dir, "uploads"),
        "MAIL_SERVER": "",
        "SERVER_NAME_FOR_EMAIL": "http://localhost",
        # Real argon2id, with cheap parameters so that signing in takes milliseconds in tests.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        # Tests post forms at once; the spam tests set their own minimum fill time.
        "ENQUIRY_MIN_SECONDS": 0,
        # Tests add practitioners between requests: the language list is read afresh each request.
        "LANGUAGE_LIST_SECONDS": 0,
    }


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(worker_id, request) -> str:
    """A migrated database for this test process, built with `flask db upgrade`."""
    url = new_database(worker_id)
    request.addfinalizer(lambda: drop_database(url))
    app = create_app(base_config(url, tempfile.mkdtemp()))
    with app.app_context():
        upgrade()
        snapshot = {}
        with db.engine.connect() as conn:
            for table in REFERENCE_TABLES:
                snapshot[table] = [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]
        app.config["REFERENCE_SNAPSHOT"] = snapshot
        db.engine.dispose()
    _SNAPSHOT.update(snapshot)
    return url


_SNAPSHOT: dict = {}


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    """The xdist worker name, or "main"."""
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def reset_database() -> None:
    """Empty every table, then put the reference data back as the migration left it."""
    engine = db.engine
    tables = [t for t in db.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())
        for name in REFERENCE_TABLES:
            table = db.metadata.tables[name]
            if _SNAPSHOT.get(name):
                conn.execute(table.insert(), _SNAPSHOT[name])
            if engine.dialect.name == "postgresql":
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                    )
                )


class RequestPerContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as on a real server.

    The test keeps an app context open for its set-up and checks (factories, queries). Flask
    would reuse that context, its `g` and its database session for each request; a server
    thread has none of them. So the app runs in a fresh `contextvars.Context` (what a new
    worker thread starts with): Flask pushes a new app context, `g` and session for the
    request and tears them down at its end. Around the request the test's own session
    commits what the test set up, and afterwards forgets what it had loaded, so the test's
    checks read the rows the request wrote.
    """

    def open(self, *args, **kwargs):
        """Send a request (following redirects when asked), with the test's session in step."""
        if has_app_context():
            # The request must see what the test changed, and an open write transaction
            # here would lock the request's own connection out (SQLite) or wait on it (PostgreSQL).
            db.session.commit()
        # Read the whole body at once, as a browser does: a file sent by the app is then closed.
        kwargs.setdefault("buffered", True)
        try:
            return super().open(*args, **kwargs)
        finally:
            if has_app_context():
                db.session.expire_all()

    def run_wsgi_app(self, environ, buffered=False):
        """Call the app in an empty context, so it cannot reuse the test's app context."""
        try:
            return contextvars.Context().run(super().run_wsgi_app, environ, buffered)
        finally:
            # Werkzeug's request builder spools a large upload to a temporary file that nothing closes.
            body = environ.get("wsgi.input")
            if body is not None and not isinstance(body, io.BytesIO):
                body.close()


# Every app the tests build (the `app` fixture and the ones a test makes with other settings).
Flask.test_client_class = RequestPerContextClient

# Every engine that connected during a test, closed at its end: an app built by a test with
# other settings has an engine of its own, whose pooled connections would otherwise be left
# for the garbage collector (a ResourceWarning on PostgreSQL, and warnings are errors here).
# The references are strong on purpose: such an app is cyclic garbage as soon as its test
# returns, and a collection before this fixture's teardown would drop a weakly held engine
# with its connections still open.
_ENGINES: set[sa.engine.Engine] = set()


@sa.event.listens_for(sa.engine.Engine, "engine_connect")
def _remember_engine(connection) -> None:
    _ENGINES.add(connection.engine)


def close_idle_engines() -> None:
    """Dispose of every remembered engine that has no connection checked out, and forget it.

    An engine with a connection still in use (a module's app context holding a transaction
    open across tests) is kept for a later teardown: disposing of it now would orphan that
    connection, which would go back to a pool nobody holds and be collected still open."""
    for engine in list(_ENGINES):
        if getattr(engine.pool, "checkedout", lambda: 0)() == 0:
            engine.dispose()
            _ENGINES.discard(engine)


@pytest.fixture(autouse=True)
def _close_engines():
    """Close the pooled connections of every engine the test used."""
    yield
    close_idle_engines()


@pytest.fixture
def app(database_url, tmp_path):
    """The real app on the migrated database, emptied before each test.

    An app context stays open for the test's own set-up and checks; each request of the
    test client gets its own (see RequestPerContextClient).
    """
    app = create_app(base_config(database_url, str(tmp_path)))
    with app.app_context():
        reset_database()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)


def submit_form(client, page_url: str, data: dict, post_url: str | None = None, **kwargs):
    """Open the page with the form, then post it with its CSRF token, as a browser would."""
    page = client.get(page_url)
    assert page.status_code == 200, f"{page_url} answered {page.status_code}"
    payload = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data}
    return client.post(post_url or page_url, data=payload, **kwargs)


# --- People -------------------------------------------------------------------------------


def login(client, user) -> None:
    """Sign a user in on a test client (the sign-in form itself is tested in test_accounts)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture
def practitioner_user(app):
    """A confirmed practitioner account with a published profile at Boulder, CO."""
    from directory.models import Role
    from tests.factories import PractitionerFactory, UserFactory

    user = UserFactory(role=Role.PRACTITIONER, email="pat.practitioner@example.org", name="Pat Practitioner")
    PractitionerFactory(user=user, email=user.email, display_name="Pat Practitioner", conditions=["tmj"])
    return user


@pytest.fixture
def other_practitioner_user(app):
    """A second practitioner, who must never see the first one's data."""
    from directory.models import Role
    from tests.factories import PractitionerFactory, UserFactory

    user = UserFactory(role=Role.PRACTITIONER, email="olive.other@example.org", name="Olive Other")
    PractitionerFactory(user=user, email=user.email, display_name="Olive Other")
    return user


@pytest.fixture
def provider_user(app):
    """A verified healthcare provider (a physician)."""
    from directory.models import Role
    from directory.models.accounts import ProviderStatus
    from tests.factories import UserFactory

    return UserFactory(
        role=Role.PROVIDER,
        email="dr.rivera@example.org",
        name="Dr. Ana Rivera",
        profession="Physician",
        organization="Boulder Family Medicine",
        registration_number="MD-12345",
        provider_status=ProviderStatus.VERIFIED,
    )


@pytest.fixture
def other_provider_user(app):
    """A second verified provider."""
    from directory.models import Role
    from directory.models.accounts import ProviderStatus
    from tests.factories import UserFactory

    return UserFactory(
        role=Role.PROVIDER,
        email="dr.other@example.org",
        name="Dr. Otto Other",
        profession="Dentist",
        provider_status=ProviderStatus.VERIFIED,
    )


@pytest.fixture
def admin_user(app):
    """An administrator."""
    from directory.models import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.ADMIN, email="admin@example.org", name="Ada Admin")


# --- Mail: a real SMTP server on loopback -------------------------------------------------


class SMTPTestServer:
    """An aiosmtpd server on 127.0.0.1 that keeps what it receives.

    `.messages` holds `email.message.EmailMessage` objects in arrival order (each also has
    `.envelope_rcpt`, the RCPT TO list); `.host`/`.port` say where it listens;
    `.stop()` and `.start()` take it down and bring it back on the same port (an outage);
    addresses added to `.refuse` are refused with 550.
    """

    def __init__(self) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.host = "127.0.0.1"
        self.messages: list = []
        # Addresses answered "550 no such mailbox", to test permanent refusals.
        self.refuse: set[str] = set()
        self._controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        """Accept every recipient except those in `.refuse`."""
        if address in self.refuse:
            return "550 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        """Keep each message as an EmailMessage."""
        from email import message_from_bytes
        from email.policy import default

        message = message_from_bytes(envelope.original_content or envelope.content, policy=default)
        message.envelope_rcpt = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        """Listen (again) on the same port."""
        from aiosmtpd.controller import Controller

        if self._controller is None:
            self._controller = Controller(self, hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until start()."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list:
        """The messages delivered to an address."""
        return [m for m in self.messages if address in m.envelope_rcpt]


@pytest.fixture
def smtp_server():
    """A running SMTPTestServer on a free loopback port, stopped after the test."""
    server = SMTPTestServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(app, smtp_server):
    """The app sending real SMTP to `smtp_server`: MAIL_SERVER=127.0.0.1, MAIL_PORT=its port.

    Use with `deliver_due()` (directory.mail) or `runner.invoke(args=["send-mail"])`, then
    read `smtp_server.messages`.
    """
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=5)
    return app
