"""People the browser journeys need: accounts made as an operator would, and signing in."""

from __future__ import annotations

import uuid

from directory.accounts.service import set_password
from directory.models import Role
from tests.factories import PractitionerFactory, UserFactory

PASSWORD = "gentle-cranial-rhythm-42"


def unique(prefix: str) -> str:
    """A name or address no other journey uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def make_admin(live_site) -> str:
    """An administrator (created with the CLI in real life); returns the email."""
    email = f"{unique('admin')}@example.org"
    with live_site.db():
        user = UserFactory(role=Role.ADMIN, email=email, name="Ada Admin")
        set_password(user, PASSWORD)
    return email


def make_practitioner(live_site, name: str, latitude=40.02, longitude=-105.27, **kwargs) -> tuple[str, int]:
    """A confirmed practitioner with a published profile; returns (email, profile id)."""
    email = f"{unique('practitioner')}@example.org"
    with live_site.db():
        user = UserFactory(role=Role.PRACTITIONER, email=email, name=name)
        set_password(user, PASSWORD)
        profile = PractitionerFactory(
            user=user, email=email, display_name=name, latitude=latitude, longitude=longitude, **kwargs
        )
        return email, profile.id


def sign_in(journey, email: str, password: str = PASSWORD) -> None:
    """Open the sign-in page and use it."""
    journey.goto("/account/login", "sign in")
    page = journey.page
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    journey.submit("Sign in", "signed in")
