"""seed-demo, configuration layering and the start-up check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Clinic,
    Location,
    PatientProfile,
    Practitioner,
    Room,
    SessionType,
    User,
    WorkingHours,
)
from tests.conftest import ROOT, base_config, instance_snapshot


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                Clinic,
                Location,
                Room,
                SessionType,
                Practitioner,
                PatientProfile,
                User,
                WorkingHours,
            )
        }


def test_seed_demo_builds_the_demo_clinic_and_is_idempotent(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = _counts(app)
    assert counts["Clinic"] == 1
    assert counts["Location"] == 2
    assert counts["Room"] == 3
    assert counts["SessionType"] == 4
    assert counts["Practitioner"] == 4
    assert counts["PatientProfile"] == 32  # 30, and 2 new ones on plans (booking/demo/plans.py)
    assert "admin@meridian.example" in first.output
    assert "meridian-demo-2026" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert second.output == first.output
    assert _counts(app) == counts
    with app.app_context():
        community = db.session.scalar(select(Room).where(Room.name == "Community room"))
        assert community.capacity == 4
        durations = sorted(db.session.scalars(select(SessionType.duration_minutes)))
        assert durations == [20, 30, 30, 40]


def test_seed_demo_refuses_a_real_clinic(app: Flask) -> None:
    with app.app_context():
        db.session.add(Clinic(name="Real clinic", timezone="Europe/London", is_demo=False))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "real clinic" in result.output
    assert len(result.output.strip().splitlines()) == 1


def _start(env: dict[str, str], instance: Path) -> subprocess.CompletedProcess[str]:
    """Start the app in a fresh interpreter with only `env` and its own instance folder."""
    code = "from booking import create_app; create_app(); print('started')"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"BOOKING_INSTANCE_PATH": str(instance), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_secret_key_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "BOOKING_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
    result = _start(env, tmp_path / "instance")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[-1]]
    assert "SECRET_KEY is not set" in result.stderr


def test_short_secret_key_stops_start_up(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "BOOKING_SECRET_KEY": "short",
        "BOOKING_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
    }
    result = _start(env, tmp_path / "instance")
    assert result.returncode != 0
    assert "at least 32 characters" in result.stderr


def test_environment_overrides_defaults(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "BOOKING_DEVELOPMENT": "true",  # no production settings needed to read these back
        "BOOKING_SECRET_KEY": "k" * 40,
        "BOOKING_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/env.db",
        "BOOKING_CLINIC_NAME": "Elm Street Acupuncture",
    }
    code = (
        "from booking import create_app; a = create_app(); "
        "print(a.config['CLINIC_NAME']); print(a.config['SQLALCHEMY_DATABASE_URI'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"BOOKING_INSTANCE_PATH": str(tmp_path / "instance"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Elm Street Acupuncture", f"sqlite:///{tmp_path}/env.db"]


def test_test_config_wins_over_environment(sqlite_app: Flask) -> None:
    assert sqlite_app.config["TESTING"] is True
    assert sqlite_app.config["ARGON2_TIME_COST"] == 1


def test_the_instance_folder_is_chosen_by_argument_then_environment(tmp_path: Path) -> None:
    from booking import create_app

    own = tmp_path / "own"
    own.mkdir()
    (own / "config.py").write_text('CLINIC_NAME = "Read from its own instance folder"\n')
    app = create_app(base_config(f"sqlite:///{tmp_path}/x.db"), instance_path=own)
    assert app.instance_path == str(own)
    assert app.config["CLINIC_NAME"] == "Read from its own instance folder"
    # Under pytest the environment points every other app away from the checkout's folder.
    assert create_app(base_config(f"sqlite:///{tmp_path}/y.db")).instance_path != str(
        ROOT / "instance"
    )


def test_instance_snapshot_sees_a_new_or_changed_file(tmp_path: Path) -> None:
    before = instance_snapshot(tmp_path)
    (tmp_path / "meridian.sqlite").write_bytes(b"x")
    created = instance_snapshot(tmp_path)
    assert created != before
    (tmp_path / "meridian.sqlite").write_bytes(b"xy")
    assert instance_snapshot(tmp_path) != created
