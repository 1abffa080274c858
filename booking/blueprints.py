"""Every blueprint, registered in one place."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from booking.admin import bp as admin_bp
    from booking.aftercare import bp as aftercare_bp
    from booking.api import bp as api_bp
    from booking.articles import bp as articles_bp
    from booking.auth import bp as auth_bp
    from booking.book import bp as book_bp
    from booking.extensions import csrf
    from booking.intake import bp as intake_bp
    from booking.manage import bp as manage_bp
    from booking.outcomes import bp as outcomes_bp
    from booking.patient import bp as patient_bp
    from booking.practitioner import bp as practitioner_bp
    from booking.public import bp as public_bp
    from booking.reception import bp as reception_bp
    from booking.waitlist import bp as waitlist_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(book_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(waitlist_bp)
    app.register_blueprint(aftercare_bp)
    app.register_blueprint(outcomes_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(patient_bp, url_prefix="/patient")
    app.register_blueprint(practitioner_bp, url_prefix="/practitioner")
    app.register_blueprint(reception_bp, url_prefix="/reception")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(articles_bp, url_prefix="/articles")
    app.register_blueprint(intake_bp, url_prefix="/intake")
    # The API ignores cookies and authenticates by bearer token, so CSRF does not apply.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
