"""Browser journeys: the real app on a loopback port, real SMTP on loopback, Debian's Chromium.

The app runs in a background thread (werkzeug's make_server) on its own database, migrated with
`flask db upgrade` (SQLite file; PostgreSQL when DATABASE_URL is set, under a separate name).
Each journey runs at desktop width and at phone width (375 px); every page it visits is saved
as a screenshot under tests/e2e/artifacts/ and scanned with axe-core (WCAG 2.1 AA).
"""

from __future__ import annotations

import re
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from directory import create_app
from directory.extensions import db
from tests.conftest import SMTPTestServer, base_config, drop_database, new_database

ARTIFACTS = Path(__file__).parent / "artifacts"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True},
}
LINK_RE = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, never a downloaded browser."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


class LiveSite:
    """The running app: its URL, its app object, and the mail it sent."""

    def __init__(self, app, url: str, smtp: SMTPTestServer) -> None:
        self.app = app
        self.url = url
        self.smtp = smtp

    @contextmanager
    def db(self):
        """An app context for reading or writing the site's database from the test."""
        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            finally:
                db.session.remove()

    def deliver_mail(self) -> None:
        """Send what the outbox holds, as the `send-mail` worker would."""
        from directory.mail import deliver_due

        with self.app.app_context():
            deliver_due()
            db.session.remove()

    def mail_to(self, address: str) -> list:
        """Every message delivered to an address (after deliver_mail)."""
        self.deliver_mail()
        return self.smtp.to(address)

    def link_in_last_mail(self, address: str, contains: str) -> str:
        """The first link in the newest message to `address` whose URL contains `contains`."""
        messages = self.mail_to(address)
        assert messages, f"no mail was sent to {address}"
        body = messages[-1].get_body(preferencelist=("plain",)).get_content()
        links = [link for link in LINK_RE.findall(body) if contains in link]
        assert links, f"no link with {contains!r} in the mail to {address}:\n{body}"
        return links[0]


@pytest.fixture(scope="session")
def live_site(worker_id, request):
    """The real app served on a free loopback port, with an SMTP server catching its mail."""
    url = new_database(f"e2e_{worker_id}")
    request.addfinalizer(lambda: drop_database(url))
    smtp = SMTPTestServer()
    smtp.start()
    request.addfinalizer(smtp.stop)
    config = {
        **base_config(url, tempfile.mkdtemp(prefix="cst-e2e-")),
        # A browser behaves as in production: no TESTING shortcuts.
        "TESTING": False,
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 5,
        "RATELIMIT_ENABLED": False,
        # A person needs seconds to write an enquiry; the journey waits just over this.
        "ENQUIRY_MIN_SECONDS": 1,
    }
    app = create_app(config)
    with app.app_context():
        upgrade()
        # Load the offline gazetteer now, not during the first journey's first search.
        from directory.geocoding import geocode

        geocode("Boulder, CO")
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    site_url = f"http://127.0.0.1:{server.server_port}"
    app.config["SERVER_NAME_FOR_EMAIL"] = site_url
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    request.addfinalizer(server.shutdown)
    return LiveSite(app, site_url, smtp)


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request) -> str:
    """Each journey runs at desktop width and at phone width (375 px)."""
    return request.param


class Journey:
    """A browser tab that records each page it visits: a screenshot and an axe-core scan."""

    def __init__(self, page, site: LiveSite, name: str) -> None:
        self.page = page
        self.site = site
        self.name = name
        self.step = 0
        self.csp_errors: list[str] = []
        self.scanned: list[str] = []
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_errors.append(message.text)

    def goto(self, path: str, label: str | None = None):
        """Open a page of the site and check it."""
        response = self.page.goto(self.site.url + path)
        self.check(label or path)
        return response

    def check(self, label: str) -> None:
        """Screenshot the page as it is now, and fail on a serious accessibility violation."""
        from axe_playwright_python.sync_playwright import Axe

        self.page.wait_for_load_state("load")
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:50] or "page"
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.step:02d}-{slug}.png"), full_page=True)
        results = Axe().run(self.page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
        self.scanned.append(self.page.url)
        details = "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in blocking
        )
        assert not blocking, f"axe-core on {label} ({self.page.url}):\n{details}"
        assert not self.csp_errors, f"Content-Security-Policy blocked something on {label}: {self.csp_errors}"

    def submit(self, button_name: str, label: str) -> None:
        """Press a form's button, wait for the next page, and check it."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button_name).click()
        self.check(label)

    def click_link(self, name: str, label: str, exact: bool = False) -> None:
        """Follow a link by its accessible name, and check the page it leads to."""
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=name, exact=exact).first.click()
        self.check(label)


def open_context(browser, live_site: LiveSite, viewport: str):
    """A browser context at the given width that talks to the site only.

    Anything else (map tiles from openstreetmap.org) is refused at once: the tests never use the
    network, and a page must work without those.
    """
    context = browser.new_context(**VIEWPORTS[viewport], locale="en-US")
    context.set_default_timeout(30_000)
    context.route(
        lambda url: not url.startswith(live_site.url),
        lambda route: route.abort("blockedbyclient"),
    )
    return context


@pytest.fixture
def journey(browser, live_site, viewport, request):
    """A fresh browser context at the journey's width, recording its pages."""
    context = open_context(browser, live_site, viewport)
    page = context.new_page()
    name = re.sub(r"[^a-z0-9]+", "-", request.node.originalname.removeprefix("test_").lower()) + f"-{viewport}"
    try:
        yield Journey(page, live_site, name)
    finally:
        context.close()


@pytest.fixture
def new_journey(browser, live_site, viewport, request):
    """Open another browser (a second person in the same story), closed after the test."""
    contexts = []

    def open_journey(who: str) -> Journey:
        context = open_context(browser, live_site, viewport)
        contexts.append(context)
        base = re.sub(r"[^a-z0-9]+", "-", request.node.originalname.removeprefix("test_").lower())
        return Journey(context.new_page(), live_site, f"{base}-{viewport}-{who}")

    yield open_journey
    for context in contexts:
        context.close()
