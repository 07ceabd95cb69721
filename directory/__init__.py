"""The CST practitioner directory and referral site."""

from __future__ import annotations

import logging
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from directory import config as settings


def create_app(test_config: dict | None = None) -> Flask:
    """Application factory: defaults, then instance/config.py, then the test mapping."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    settings.apply_derived(app.config)
    settings.check_production(app.config)
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        # Behind that many reverse proxies, the client's address and scheme come from the
        # X-Forwarded-* headers they set (rate limits per address depend on it); without
        # proxies those headers are anybody's and are ignored.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    register_extensions(app)
    register_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_commands(app)
    register_operations(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extension objects to the app."""
    from directory import database
    from directory.extensions import bootstrap, cache, csrf, db, limiter, login_manager, migrate
    from directory.public import page_cache  # noqa: F401  (registers its session events)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    csrf.init_app(app)
    bootstrap.init_app(app)
    cache.init_app(app)
    # The limiter is one object per process: Flask-Limiter's init_app sets the default and
    # application-wide limits only when none are set yet, so an app made after another (tests,
    # tools) would keep the first one's. Each app starts from its own configuration.
    limiter.limit_manager.set_default_limits([])
    limiter.limit_manager.set_application_limits([])
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"
    with app.app_context():
        database.configure_engine(db.engine)
    from directory import auth  # noqa: F401  (registers the user loader)
    from directory.geocoding import prepare_geocoder

    prepare_geocoder(app.config)  # place data opened now, not on the first search


def register_converters(app: Flask) -> None:
    """URL converters that keep ids within what the database holds."""
    from directory.security import register_converters as install

    install(app)


def register_blueprints(app: Flask) -> None:
    """Register one blueprint per area."""
    from directory.accounts.views import bp as accounts_bp
    from directory.admin.views import bp as admin_bp
    from directory.api.contract import register_api
    from directory.api.views import bp as api_bp
    from directory.feedback.views import bp as feedback_bp
    from directory.fhir.views import bp as fhir_bp
    from directory.practitioners.views import bp as practitioners_bp
    from directory.public.views import bp as public_bp
    from directory.public.views import leaflet_bp
    from directory.referrals.views import bp as referrals_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(leaflet_bp)
    register_api(app, api_bp)  # registers the blueprint and builds its OpenAPI document
    app.register_blueprint(accounts_bp)
    app.register_blueprint(practitioners_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(fhir_bp)


def register_errorhandlers(app: Flask) -> None:
    """Errors answer in JSON for the API and API-minded clients, in HTML otherwise."""
    from directory.errors import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    """Request id for logs and error pages; refusal of unusable input; security headers on every response."""
    from directory.security import assign_request_id, refuse_deep_json, refuse_nul_characters, set_security_headers

    app.before_request(assign_request_id)
    # Bodies too deeply nested are refused before anything (the NUL check, a view) parses them.
    app.before_request(refuse_deep_json)
    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def register_commands(app: Flask) -> None:
    """Register the click commands."""
    from directory.commands import register

    register(app)


def register_operations(app: Flask) -> None:
    """Health checks, request logs, metrics and backup commands (directory/ops)."""
    from directory.ops import init_app

    init_app(app)
