"""Production settings: `check --deploy` is clean, and missing secrets stop start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "CLOUDSIGNAL_ENV": "production",
    "SECRET_KEY": "k" * 10 + "-production-secret-key-with-enough-entropy-1234567890abcdef",
    "SECRETS_PEPPER": "a-production-pepper-0123456789-abcdefghij",
    "BROKER_HOOK_SECRET": "a-production-hook-secret-0123456789-abcdefghij",
    "ALLOWED_HOSTS": "dashboard.example.com",
    "DATABASE_URL": "postgres://cloudsignal:cloudsignal@127.0.0.1:5432/cloudsignal",
}


def _manage(*args: str, env: dict, var_dir: Path) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION_ENV and k not in ("REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "CLOUDSIGNAL_VAR_DIR": str(var_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_no_issues_with_production_settings(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, var_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert not list(tmp_path.iterdir()), "production must not generate secrets into var/"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "SECRETS_PEPPER", "BROKER_HOOK_SECRET", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_setting(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env, var_dir=tmp_path)
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "SECRETS_PEPPER", "BROKER_HOOK_SECRET"])
@pytest.mark.parametrize("value", ["x", "0123456789abcdef0123456789abcde", "ab" * 40])
def test_production_refuses_a_short_or_repetitive_secret(tmp_path, name, value):
    result = _manage("check", env={**PRODUCTION_ENV, name: value}, var_dir=tmp_path)
    assert result.returncode != 0
    assert f"{name} is too short or too repetitive for production" in result.stderr


def test_make_runs_var_directory_is_readable_by_its_owner_only(tmp_path):
    var = tmp_path / "var"
    env = {"CLOUDSIGNAL_ENV": "development", "SECRET_KEY": "", "SECRETS_PEPPER": ""}
    assert _manage("migrate", "--noinput", env=env, var_dir=var).returncode == 0
    assert _manage("check", env=env, var_dir=var).returncode == 0
    assert var.stat().st_mode & 0o777 == 0o700
    assert (var / "cloudsignal.sqlite3").stat().st_mode & 0o077 == 0


def test_development_generates_its_secrets_once_into_var(tmp_path):
    env = {"CLOUDSIGNAL_ENV": "development", "SECRET_KEY": "", "SECRETS_PEPPER": ""}
    assert _manage("check", env=env, var_dir=tmp_path).returncode == 0
    first = (tmp_path / "secret_key").read_text()
    assert len(first) >= 50 and (tmp_path / "secrets_pepper").stat().st_mode & 0o077 == 0
    assert _manage("check", env=env, var_dir=tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == first


def test_a_malformed_boolean_is_an_error_not_false(tmp_path):
    result = _manage("check", env={"DEBUG": "maybe"}, var_dir=tmp_path)
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.parametrize(("value", "expected"), [(None, "5"), ("false", "None")])
def test_prepared_statements_are_on_unless_turned_off(tmp_path, value, expected):
    env = {**PRODUCTION_ENV, **({"DB_PREPARED_STATEMENTS": value} if value else {})}
    code = "from django.db import connection as c; print(c.settings_dict['OPTIONS'].get('prepare_threshold'))"
    result = _manage("shell", "-c", code, env=env, var_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected
