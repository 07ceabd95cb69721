"""WSGI entry point: `flask --app wsgi ...` and production servers."""

from directory import create_app

app = create_app()
