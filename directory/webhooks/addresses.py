"""Which webhook URLs the site will call: the one rule, at registration and at delivery (SSRF).

In production only `https` URLs whose host resolves to public addresses only; `http` and
loopback or private addresses only when WEBHOOK_ALLOW_PRIVATE is true (the development and test
default). Link-local addresses (cloud metadata services among them), multicast, unspecified
and reserved ones are never called. Delivery resolves the host again and connects to the
address it checked, so a DNS answer that changes after registration (rebinding) cannot turn a
public name into an internal address.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

MAX_URL_LENGTH = 2000
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookUrlError(ValueError):
    """A URL the site will not call, with why."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (the address checked) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def allow_private() -> bool:
    """WEBHOOK_ALLOW_PRIVATE: true by default outside production."""
    value = current_app.config.get("WEBHOOK_ALLOW_PRIVATE")
    if value is None:
        return current_app.config.get("ENV_NAME") != "production"
    return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}


def check_url(url: str) -> str:
    """The URL, trimmed, if its form may be registered; WebhookUrlError otherwise (no DNS look-up)."""
    url = (url or "").strip()
    if not url:
        raise WebhookUrlError("url is required.")
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlError(f"url is longer than {MAX_URL_LENGTH} characters.")
    _parts(url)
    return url


def resolve(url: str) -> Target:
    """Where to deliver: the URL's host resolved, every address checked; WebhookUrlError otherwise."""
    scheme, host, port, path = _parts(url)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise WebhookUrlError(f"The host {host!r} does not resolve ({error}).") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise WebhookUrlError(f"The host {host!r} does not resolve.")
    for address in addresses:
        _check_address(host, address)
    return Target(scheme, host, port, path, str(addresses[0]))


def _parts(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an acceptable URL."""
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise WebhookUrlError("url must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlError("url is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise WebhookUrlError("url must be an https URL.")
    if scheme == "http" and not allow_private():
        raise WebhookUrlError("url must be an https URL (http only for development).")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("url must not carry a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookUrlError("url has no host.")
    if parts.fragment:
        raise WebhookUrlError("url must not have a #fragment.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _check_address(host: str, address: IpAddress) -> None:
    """Refuse an address the site must never call, and private ones unless allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_loopback and (
        address.is_link_local or address.is_multicast or address.is_unspecified or address.is_reserved
    ):
        raise WebhookUrlError(f"{host} resolves to {address}, an address webhooks are never sent to.")
    if address.is_global:
        return
    if not allow_private():
        raise WebhookUrlError(f"{host} resolves to {address}, which is not a public address.")
