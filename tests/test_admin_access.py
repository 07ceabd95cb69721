"""Admin pages answer 404 to everyone but admins, and every admin form needs its CSRF token."""

from __future__ import annotations

import re

import pytest

from directory.models import Role
from tests.admin_support import admin_client  # noqa: F401
from tests.conftest import login
from tests.factories import UserFactory


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, url) of every route under /admin, each path argument filled with 1."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_the_admin_area_has_routes_to_check(app):
    routes = admin_routes(app)
    assert ("GET", "/admin/") in routes and ("POST", "/admin/credentials/1/verify") in routes
    assert len(routes) > 20


@pytest.mark.parametrize("who", ["anonymous", "practitioner", "provider", "disabled admin"])
def test_every_admin_route_is_not_found_for_non_admins(app, client, who, practitioner_user, provider_user):
    if who == "practitioner":
        login(client, practitioner_user)
    elif who == "provider":
        login(client, provider_user)
    elif who == "disabled admin":
        login(client, UserFactory(role=Role.ADMIN, email="gone@example.org", disabled=True))
    for method, url in admin_routes(app):
        response = client.open(url, method=method, data={"reason": "x", "method": "register checked"})
        assert response.status_code == 404, f"{who} {method} {url} answered {response.status_code}"


def test_unknown_admin_paths_are_not_found_either(client, practitioner_user):
    login(client, practitioner_user)
    assert client.get("/admin/nothing-here").status_code == 404


def test_admin_sees_every_page_without_arguments(app, admin_client):  # noqa: F811
    for method, url in admin_routes(app):
        if method == "GET" and "1" not in url:
            assert admin_client.get(url).status_code == 200, url


def test_every_admin_post_without_csrf_token_is_refused(app, admin_client):  # noqa: F811
    posts = [url for method, url in admin_routes(app) if method == "POST"]
    assert posts
    for url in posts:
        response = admin_client.post(url, data={"reason": "x", "method": "register checked", "name": "X"})
        assert response.status_code == 400, f"POST {url} answered {response.status_code}"
        assert "form expired" in response.get_data(as_text=True)


def test_overview_shows_queue_sizes_and_links(admin_client, provider_user):  # noqa: F811
    from directory.models.accounts import ProviderStatus
    from tests.factories import CertificationFactory

    CertificationFactory()
    CertificationFactory()
    UserFactory(role=Role.PROVIDER, provider_status=ProviderStatus.PENDING)
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert re.search(r'id="count-credentials">2<', html)
    assert re.search(r'id="count-providers">1<', html)
    for link in ("/admin/credentials", "/admin/providers", "/admin/audit", "/admin/conditions", "/admin/bodies"):
        assert f'href="{link}"' in html
