"""Prometheus metrics at /metrics: requests per endpoint (prometheus-flask-exporter) and the outbox.

Only addresses in METRICS_ALLOW may read them; anyone else gets a plain 404, as if there were
nothing there. Under gunicorn with several workers each worker counts its own requests:
gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh folder before the app is loaded,
so prometheus_client writes every worker's counts there and /metrics adds them up.
"""

from __future__ import annotations

from datetime import UTC

from flask import Flask, abort, current_app, request
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_flask_exporter import PrometheusMetrics
from sqlalchemy import func, select

from directory.config import parse_networks
from directory.extensions import db
from directory.models.base import utcnow
from directory.ops.health import bp

# Not counted: health checks come every few seconds from load balancers, /metrics from Prometheus.
UNCOUNTED_PATHS = [r"^/healthz$", r"^/readyz$", r"^/metrics$"]


def init_app(app: Flask) -> None:
    """Count requests per endpoint, and read who may see the figures (a bad list stops the start)."""
    app.extensions["ops.metrics_allow"] = parse_networks("METRICS_ALLOW", app.config.get("METRICS_ALLOW", ""))
    # A registry per app: the tests build many apps in one process, each with its own counters.
    app.extensions["ops.metrics"] = PrometheusMetrics(
        app,
        path=None,
        group_by="endpoint",
        defaults_prefix="cst",
        excluded_paths=UNCOUNTED_PATHS,
        registry=CollectorRegistry(auto_describe=True),
    )
    # How the search page was answered: from its kept copy (hit) or drawn (miss); see public/page_cache.py.
    app.extensions["ops.search_page_cache"] = Counter(
        "cst_search_page_cache",
        "Search pages answered from the kept copy (hit) or drawn anew (miss)",
        ["result"],
        registry=app.extensions["ops.metrics"].registry,
    )


@bp.get("/metrics")
def metrics():
    """The figures in Prometheus's text format, for allowed addresses only."""
    if not caller_may_read_metrics():
        abort(404)
    requests_text, _ = current_app.extensions["ops.metrics"].generate_metrics()
    outbox = CollectorRegistry(auto_describe=False)
    outbox.register(OutboxCollector())
    body = requests_text + generate_latest(outbox).decode("utf-8")
    return body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}


def caller_may_read_metrics() -> bool:
    """The caller's address (after ProxyFix, when TRUSTED_PROXIES is set) is in METRICS_ALLOW."""
    from ipaddress import ip_address

    try:
        address = ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.extensions["ops.metrics_allow"])


class OutboxCollector:
    """Gauges read from the outbox table at each scrape."""

    def collect(self):
        """Unsent messages, those given up on, and how long the oldest due one has waited."""
        from directory.mail import MAX_ATTEMPTS
        from directory.models import OutboxMessage

        now = utcnow()
        unsent = OutboxMessage.sent_at.is_(None)
        depth = db.session.scalar(select(func.count()).where(unsent, OutboxMessage.attempts < MAX_ATTEMPTS))
        given_up = db.session.scalar(select(func.count()).where(unsent, OutboxMessage.attempts >= MAX_ATTEMPTS))
        oldest = db.session.scalar(
            select(func.min(OutboxMessage.created_at)).where(
                unsent, OutboxMessage.attempts < MAX_ATTEMPTS, OutboxMessage.next_attempt_at <= now
            )
        )
        if oldest is not None and oldest.tzinfo is None:  # SQLite returns naive UTC times
            oldest = oldest.replace(tzinfo=UTC)
        yield GaugeMetricFamily("cst_outbox_queue_depth", "Outbox messages not yet sent (still being tried)", depth)
        yield GaugeMetricFamily("cst_outbox_given_up", "Outbox messages never sent after every attempt", given_up)
        yield GaugeMetricFamily(
            "cst_outbox_oldest_due_age_seconds",
            "Seconds since the oldest message that is due now was queued (0 when none is due)",
            max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        )
