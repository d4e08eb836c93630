"""Settings helpers refuse what they cannot interpret."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from erpcare.env import env_bool, env_int, env_secret, parse_database_url


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("Yes", True)])
def test_env_bool_accepts_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


def test_env_bool_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG must be true or false"):
        env_bool("X_FLAG", False)


def test_env_int_rejects_text_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("X_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="integer"):
        env_int("X_N", 1)
    monkeypatch.setenv("X_N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_N", 1, minimum=1)


def test_env_secret_reads_a_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "key"
    secret_file.write_text("s3cret\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret_file))
    assert env_secret("X_SECRET") == "s3cret"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_secret("X_SECRET")


def test_postgres_urls_become_django_settings():
    db = parse_database_url(
        "postgres://erp%40care:p%2Fw@db.example:5433/erpcare?sslmode=require", base_dir=Path("/")
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "erp@care", "p/w", "db.example", "5433", "erpcare",
    )  # fmt: skip
    # Prepared statements after 5 executions, unless turned off (e.g. behind PgBouncer).
    assert db["OPTIONS"] == {
        "sslmode": "require", "server_side_binding": True, "prepare_threshold": 5,
    }  # fmt: skip
    plain = parse_database_url("postgres://u@h/db?server_side_binding=false", base_dir=Path("/"))
    assert plain["OPTIONS"] == {}


def test_sqlite_urls_are_relative_to_the_base_dir_unless_absolute(tmp_path):
    relative = parse_database_url("sqlite:///var/x.sqlite3", base_dir=tmp_path)
    absolute = parse_database_url("sqlite:////srv/erp.sqlite3", base_dir=tmp_path)
    assert relative["NAME"] == str(tmp_path / "var/x.sqlite3")
    assert absolute["NAME"] == "/srv/erp.sqlite3"
    assert relative["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgres://u@h/", "sqlite://"])
def test_unsupported_or_incomplete_urls_fail_fast(url):
    with pytest.raises(ImproperlyConfigured):
        parse_database_url(url, base_dir=Path("/"))
