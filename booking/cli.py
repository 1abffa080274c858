"""Command-line tasks: `flask --app wsgi <command>`."""

from __future__ import annotations

import pathlib

import click
from flask import Flask

from booking import cli_outbox
from booking.db_hooks import WRITE_TX
from booking.domain.errors import DomainError
from booking.extensions import db


def register(app: Flask) -> None:
    cli_outbox.register(app)
    _register_articles(app)
    _register_api_tokens(app)
    _register_housekeeping(app)
    _register_privacy(app)
    _register_backups(app)
    _register_audit(app)
    _register_seed_scale(app)

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create the demo clinic and its activity (idempotent) and print its sign-ins."""
        from booking import clock
        from booking.auth_session import totp_cipher
        from booking.demo.activity import seed_demo_activity
        from booking.demo.arrivals import arrivals_today
        from booking.demo.clinic import seed_demo_clinic
        from booking.demo.mfa import enrol_demo_staff
        from booking.security import password_cost

        WRITE_TX.set(True)
        try:
            sign_ins = seed_demo_clinic(cost=password_cost())
            seed_demo_activity(now=clock.utcnow())
            secrets = enrol_demo_staff(cipher=totp_cipher(app.config), now=clock.utcnow())
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo("Demo sign-ins (role, email, password):")
        for sign_in in sign_ins:
            click.echo(f"  {sign_in.role:<13} {sign_in.email:<32} {sign_in.password}")
        click.echo("Staff sign in with a code too. Add these TOTP keys to an authenticator app")
        click.echo("(time-based, 6 digits, 30 s), or run: oathtool --totp -b KEY")
        for email, secret in secrets:
            click.echo(f"  {email:<32} {secret}")
        arrivals = arrivals_today(clock.utcnow())
        click.echo(
            "Front desk: sign in as the receptionist and open /reception/, the day sheet "
            f"({arrivals} arrival{'' if arrivals == 1 else 's'} still to check in today); "
            "find and book patients at /reception/patients"
        )


def _register_articles(app: Flask) -> None:
    @app.cli.command("import-articles")
    @click.argument(
        "directory", type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path)
    )
    def import_articles(directory: pathlib.Path) -> None:
        """Import every *.md file in DIRECTORY as an article (slug = file name); rerun updates."""
        from booking import clock
        from booking.services.articles.importing import import_articles as run_import

        WRITE_TX.set(True)
        try:
            report = run_import(directory, now=clock.utcnow())
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        db.session.commit()
        for outcome in ("created", "updated", "unchanged"):
            for slug in getattr(report, outcome):
                click.echo(f"{outcome:<9} {slug}")
        for name, reason in report.failed:
            click.echo(f"failed    {name}: {reason}", err=True)
        if report.failed:
            raise SystemExit(1)


def _register_api_tokens(app: Flask) -> None:
    @app.cli.group("api-token")
    def api_token() -> None:
        """Create, list and revoke bearer tokens for the JSON API."""

    @api_token.command("create")
    @click.option("--email", required=True, help="An existing staff user's email address.")
    @click.option("--name", required=True, help="What the token is for, e.g. 'clinic website'.")
    def create(email: str, name: str) -> None:
        """Create a token; the token itself is printed once, alone on the last line."""
        from booking import clock
        from booking.services.api.tokens import create_token

        WRITE_TX.set(True)
        try:
            token, plaintext = create_token(email=email, name=name, now=clock.utcnow())
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo(
            f"Created API token {token.id} ({token.name}) for {token.user.email}, "
            f"acting as {token.user.role}. It is shown only this once:"
        )
        click.echo(plaintext)

    @api_token.command("list")
    def list_() -> None:
        """List tokens: id, prefix, user, role, name, last used, revoked."""
        from booking.services.api.tokens import list_tokens

        tokens = list_tokens()
        if not tokens:
            click.echo("No API tokens.")
            return
        for token in tokens:
            used = (
                token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "never"
            )
            state = (
                f"revoked {token.revoked_at.isoformat(timespec='minutes')}"
                if token.revoked_at
                else "active"
            )
            click.echo(
                f"{token.id:>4}  {token.prefix}…  {token.user.email:<32} {token.user.role!s:<13} "
                f"{token.name}  last used {used}  {state}"
            )

    @api_token.command("revoke")
    @click.argument("token_id", type=int)
    def revoke(token_id: int) -> None:
        """Revoke token TOKEN_ID at once (revoking twice changes nothing)."""
        from booking import clock
        from booking.services.api.tokens import revoke_token

        WRITE_TX.set(True)
        try:
            token, changed = revoke_token(token_id, now=clock.utcnow())
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        db.session.commit()
        click.echo(
            f"Revoked API token {token.id}."
            if changed
            else f"API token {token.id} was already revoked."
        )


def _register_housekeeping(app: Flask) -> None:
    @app.cli.command("purge-expired")
    def purge_expired() -> None:
        """Delete booking drafts and email links past their expiry (safe to run at any time)."""
        from booking import clock
        from booking.services.booking.drafts import purge_expired_drafts

        WRITE_TX.set(True)
        drafts, links = purge_expired_drafts(now=clock.utcnow())
        db.session.commit()
        click.echo(f"Deleted {drafts} expired booking draft(s) and {links} expired email link(s).")


def _register_privacy(app: Flask) -> None:
    @app.cli.command("apply-retention")
    @click.option("--dry-run", is_flag=True, help="List what would be anonymised; change nothing.")
    def apply_retention(dry_run: bool) -> None:
        """Anonymise clinical records past the retention period (CLINICAL_RETENTION_YEARS).

        Lists patients by id only, so the output can go to a log.
        """
        from booking import clock
        from booking.services.privacy.retention import expired_records, purge

        years = app.config["CLINICAL_RETENTION_YEARS"]
        if not isinstance(years, int) or isinstance(years, bool) or years < 1:
            raise click.ClickException("CLINICAL_RETENTION_YEARS must be a whole number >= 1.")
        WRITE_TX.set(True)
        now = clock.utcnow()
        expired = expired_records(now=now, years=years)
        for record in expired:
            click.echo(
                f"patient {record.patient_id}: last clinical event "
                f"{record.last_clinical.isoformat()}, retention ended "
                f"{record.retention_ended.isoformat()}"
            )
        if dry_run:
            db.session.rollback()
            click.echo(f"Dry run: {len(expired)} record(s) past {years} years would be anonymised.")
            return
        for record in expired:
            purge(record, now=now)
        db.session.commit()
        click.echo(f"Anonymised {len(expired)} record(s) past {years} years.")


def _register_backups(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=pathlib.Path))
    def backup(path: pathlib.Path) -> None:
        """Back up the database to PATH (a new file) while the app keeps running."""
        from booking.services.platform.backup import backup as run_backup

        try:
            how = run_backup(db.engine, path)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Backed up to {path} ({how}).")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=pathlib.Path))
    def restore(path: pathlib.Path) -> None:
        """Restore the backup at PATH into the configured database, which must be empty."""
        from booking.services.platform.backup import restore as run_restore

        try:
            how = run_restore(db.engine, path)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Restored {path} ({how}).")


def _register_audit(app: Flask) -> None:
    @app.cli.group("audit")
    def audit() -> None:
        """Check the append-only audit trail."""

    @audit.command("verify")
    def verify() -> None:
        """Walk the audit trail's hash chain; exit 1 naming the first broken row."""
        from booking.services.platform.audit import verify_chain

        checked, broken = verify_chain()
        if broken is not None:
            raise click.ClickException(
                f"Audit chain broken at row {broken.row_id}: {broken.reason}."
            )
        click.echo(f"Audit chain intact: {checked} row(s) checked.")


def _register_seed_scale(app: Flask) -> None:
    @app.cli.command("seed-scale")
    @click.option("--locations", type=click.IntRange(1, 100), default=10, show_default=True)
    @click.option("--practitioners", type=click.IntRange(1, 2000), default=100, show_default=True)
    @click.option(
        "--patients", type=click.IntRange(0, 5_000_000), default=50_000, show_default=True
    )
    @click.option(
        "--appointments", type=click.IntRange(0, 20_000_000), default=1_000_000, show_default=True
    )
    @click.option("--plans", type=click.IntRange(0), help="default: one patient in a hundred")
    @click.option("--seed", type=int, default=22, show_default=True, help="random seed")
    @click.option(
        "--password",
        envvar="SCALE_PASSWORD",
        help="staff password for every scale sign-in (default: a new random one, printed)",
    )
    def seed_scale(
        locations: int,
        practitioners: int,
        patients: int,
        appointments: int,
        plans: int | None,
        seed: int,
        password: str | None,
    ) -> None:
        """Fill an EMPTY, migrated database with a made-up chain at scale (bulk inserts)."""
        import secrets
        import time
        from zoneinfo import ZoneInfo

        from booking import clock
        from booking.demo.scale import SCALE_ZONE, ScaleSize, refusal
        from booking.demo.scale import seed_scale as run
        from booking.security import password_cost
        from booking.services.accounts.passwords import STAFF_PASSWORD_MIN, hash_password

        if practitioners < locations:
            raise click.ClickException("--practitioners must be at least --locations")
        if password is not None and len(password) < STAFF_PASSWORD_MIN:
            raise click.ClickException(f"--password needs {STAFF_PASSWORD_MIN} characters or more")
        reason = refusal(db.engine)
        if reason is not None:
            raise click.ClickException(f"seed-scale refused: {reason}")
        password = password or secrets.token_urlsafe(15)
        size = ScaleSize(locations, practitioners, patients, appointments, plans, seed)
        began = time.perf_counter()
        now = clock.utcnow()
        summary = run(
            db.engine,
            size,
            now=now,
            password_hash=hash_password(password, cost=password_cost()),
            today=now.astimezone(ZoneInfo(SCALE_ZONE)).date(),
        )
        seconds = time.perf_counter() - began
        click.echo(
            f"Seeded in {seconds:.0f} s ({db.engine.dialect.name}): "
            f"{summary.locations} locations, {summary.rooms} rooms, "
            f"{summary.practitioners} practitioners, {summary.patients:,} patients, "
            f"{summary.appointments:,} appointments ({summary.live_appointments:,} live) "
            f"from {summary.first_day} to {summary.last_day}, {summary.plans:,} plans."
        )
        click.echo(
            "Sign in as admin@scale.example, reception@scale.example or "
            f"practitioner1@scale.example ... practitioner{summary.practitioners}@scale.example "
            f"with the password {password}"
        )
        if summary.first_patient_email:
            click.echo(
                f"{summary.accounts:,} patients (1, 11, 21, ...) have accounts with the same "
                f"password, e.g. {summary.first_patient_email}"
            )
