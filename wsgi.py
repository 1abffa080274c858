"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from booking import create_app

app = create_app()
