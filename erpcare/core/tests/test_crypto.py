"""Secrets at rest: AES-256-GCM, tamper detection, key rotation, the stored form."""

from __future__ import annotations

import base64
import secrets
import stat
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from erpcare.channels.models import ChatIntake
from erpcare.core import clock, crypto


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(*values: str) -> None:
        monkeypatch.setenv("ERPCARE_ENCRYPTION_KEY", ",".join(values))
        crypto.reset_keys()

    yield use
    monkeypatch.delenv("ERPCARE_ENCRYPTION_KEY", raising=False)
    crypto.reset_keys()


def test_round_trip_and_fresh_nonce(keys: Any) -> None:
    keys(_key())
    first, second = crypto.encrypt("数据库密码 s3cret"), crypto.encrypt("数据库密码 s3cret")
    assert first != second  # a fresh nonce every time
    assert "s3cret" not in first
    assert crypto.decrypt(first) == crypto.decrypt(second) == "数据库密码 s3cret"


def test_altered_value_is_refused(keys: Any) -> None:
    keys(_key())
    token = crypto.encrypt("secret")
    prefix, key_id, data = token.split(":", 2)
    raw = bytearray(base64.b64decode(data))
    raw[-1] ^= 1
    with pytest.raises(crypto.DecryptionError, match="altered"):
        crypto.decrypt(f"{prefix}:{key_id}:{base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("plain text that was never encrypted")


def test_old_key_still_decrypts_after_rotation_and_removed_key_fails(keys: Any) -> None:
    old, new = _key(), _key()
    keys(old)
    token = crypto.encrypt("secret")
    keys(new, old)
    assert crypto.decrypt(token) == "secret"
    assert not crypto.is_current(token)
    assert crypto.is_current(crypto.encrypt("x"))
    keys(new)
    with pytest.raises(crypto.DecryptionError, match="rotated"):
        crypto.decrypt(token)


@pytest.mark.parametrize("bad", ["not base64 !!", base64.urlsafe_b64encode(b"short").decode()])
def test_bad_key_configuration_is_a_clear_error(keys: Any, bad: str) -> None:
    keys(bad)
    with pytest.raises(ImproperlyConfigured, match="ERPCARE_ENCRYPTION_KEY"):
        crypto.encrypt("x")


def test_without_the_variable_a_private_key_file_is_created(
    settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ERPCARE_ENCRYPTION_KEY", raising=False)
    settings.VAR_DIR = tmp_path
    crypto.reset_keys()
    try:
        token = crypto.encrypt("secret")
        key_file = tmp_path / "encryption_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        crypto.reset_keys()
        assert crypto.decrypt(token) == "secret"  # read back from the file
    finally:
        crypto.reset_keys()


def test_mask_shows_only_the_end() -> None:
    assert crypto.mask("") == ""
    assert crypto.mask("abc") == "••••••••"
    assert crypto.mask("https://example.com/hook?key=abcd1234") == "••••••••1234"


@pytest.mark.django_db
def test_field_stores_ciphertext_and_rotate_command_reencrypts(keys: Any) -> None:
    old, new = _key(), _key()
    keys(old)
    intake = ChatIntake.objects.create(
        slug="ops", name="Ops", secret="shared-secret-value", created_at=clock.now()
    )
    empty = ChatIntake.objects.create(slug="e", name="E", secret="", created_at=clock.now())

    def stored(pk: int) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT secret FROM erpcare_channels_chatintake WHERE id = %s", [pk])
            return str(cursor.fetchone()[0])

    assert "shared-secret-value" not in stored(intake.pk)
    assert stored(empty.pk) == ""
    assert ChatIntake.objects.get(pk=intake.pk).secret == "shared-secret-value"

    keys(new, old)
    assert not crypto.is_current(stored(intake.pk))
    call_command("secrets", "rotate")
    assert crypto.is_current(stored(intake.pk))
    keys(new)  # the old key can go now
    assert ChatIntake.objects.get(pk=intake.pk).secret == "shared-secret-value"
    call_command("secrets", "check")
