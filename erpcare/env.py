"""Strict readers for settings that come from the environment.

Each helper rejects values it cannot interpret instead of guessing, so that a typo in
a deployment fails at start-up with ImproperlyConfigured rather than at 3 a.m.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME, or from the file named by NAME_FILE (Docker/systemd style)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def parse_database_url(url: str, *, base_dir: Path) -> dict[str, object]:
    """Turn DATABASE_URL into a Django DATABASES entry.

    Supported: ``sqlite:///relative/or/absolute/path`` and
    ``postgres://user:password@host:port/name?sslmode=require`` (also ``postgresql://``).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        raw_path = unquote(parts.path)
        if raw_path.startswith("//"):  # sqlite:////abs/path
            path = Path(raw_path[1:])
        else:
            path = base_dir / raw_path.lstrip("/")
        if not raw_path.strip("/"):
            raise ImproperlyConfigured("DATABASE_URL for SQLite needs a file path")
        return sqlite_database(path)
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured("DATABASE_URL for PostgreSQL needs a database name")
        options: dict[str, object] = {}
        for key, values in parse_qs(parts.query).items():
            options[key] = values[-1]
        # Server-side parameter binding lets psycopg prepare a statement after its 5th
        # execution on a connection, so PostgreSQL stops parsing and planning the hot
        # queries on every request. Turn off (?server_side_binding=false) behind a
        # transaction-mode PgBouncer without prepared-statement support.
        binding = str(options.pop("server_side_binding", "true")).lower() not in _FALSE
        if binding:
            options["server_side_binding"] = True
            options["prepare_threshold"] = int(str(options.get("prepare_threshold", 5)))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
            "TEST": {"NAME": f"test_{name}"},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {scheme!r} is not supported; use sqlite:/// or postgres://"
    )


def sqlite_database(path: Path) -> dict[str, object]:
    """SQLite tuned for a small team on one box: WAL, a busy timeout, immediate writes.

    BEGIN IMMEDIATE takes the write lock at the start of every transaction, so two writers
    queue on the busy timeout instead of failing with "database is locked" on upgrade.
    """
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # Keep the connection between requests: opening one runs the five PRAGMAs below
        # and registers Django's SQL functions, ~1 ms of every request otherwise.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=20000;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-32000;"
            ),
        },
    }
