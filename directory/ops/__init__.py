"""Running the site as a service: health checks, request logs, metrics, backups, server warm-up."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the health and metrics routes (no rate limits on them), the request log, the commands,
    and the search and API rate limits (directory/ratelimits.py)."""
    from directory import ratelimits
    from directory.extensions import limiter
    from directory.ops import logs, metrics
    from directory.ops.commands import COMMANDS
    from directory.ops.health import bp

    logs.init_app(app)
    metrics.init_app(app)
    limiter.exempt(bp)
    app.register_blueprint(bp)
    ratelimits.init_app(app)
    for command in COMMANDS:
        app.cli.add_command(command)
