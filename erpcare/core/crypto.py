"""Secrets held for customers and integrations, encrypted at rest with AES-256-GCM.

The key comes from ``ERPCARE_ENCRYPTION_KEY`` (or ``ERPCARE_ENCRYPTION_KEY_FILE``): one or more
url-safe base64 keys of 32 bytes, comma-separated. The first encrypts; all of them decrypt,
so a key can be rotated by putting the new one first and re-saving (``erpcare secrets
rotate`` re-encrypts every field). Without the variable, a per-installation key is created
in ``var/encryption_key`` (mode 0600) — fine for one machine, but a multi-machine
installation must set the variable on every machine.

Stored form: ``v1:<key id>:<base64(nonce + ciphertext + tag)>``; the key id is the first
8 hex digits of the key's SHA-256, so decryption picks the right key without trying all.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from erpcare.env import env_secret

PREFIX = "v1"


class DecryptionError(Exception):
    """The stored value cannot be decrypted with any configured key."""


def _decode_key(text: str) -> bytes:
    text = text.strip()
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("ERPCARE_ENCRYPTION_KEY is not url-safe base64") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(
            "ERPCARE_ENCRYPTION_KEY must hold 32-byte keys (44 base64 characters); "
            "make one with: python -c 'import secrets,base64;"
            "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'"
        )
    return key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


@lru_cache(maxsize=1)
def _keys() -> tuple[bytes, ...]:
    configured = env_secret("ERPCARE_ENCRYPTION_KEY")
    if configured:
        keys = tuple(_decode_key(part) for part in configured.split(",") if part.strip())
        if keys:
            return keys
    key_file = settings.VAR_DIR / "encryption_key"
    if key_file.exists():
        return (_decode_key(key_file.read_text(encoding="utf-8")),)
    key = secrets.token_bytes(32)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    # Created with 0600 from the start: the key must never be readable by others.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode())
    return (key,)


def reset_keys() -> None:
    """Forget the cached keys (tests that change the environment call this)."""
    _keys.cache_clear()


def encrypt(plaintext: str) -> str:
    key = _keys()[0]
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), PREFIX.encode())
    return f"{PREFIX}:{_key_id(key)}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    try:
        prefix, key_id, data = token.split(":", 2)
        raw = base64.b64decode(data, validate=True)
    except (ValueError, TypeError) as exc:
        raise DecryptionError("not an encrypted value") from exc
    if prefix != PREFIX:
        raise DecryptionError(f"unknown format {prefix!r}")
    for key in _keys():
        if _key_id(key) == key_id:
            try:
                return AESGCM(key).decrypt(raw[:12], raw[12:], PREFIX.encode()).decode("utf-8")
            except Exception as exc:  # InvalidTag: altered data or a colliding key id
                raise DecryptionError("the value was altered or the key is wrong") from exc
    raise DecryptionError(f"no configured key has id {key_id}; was the key rotated away?")


def is_current(token: str) -> bool:
    """Whether the value is encrypted with the first (current) key."""
    return token.startswith(f"{PREFIX}:{_key_id(_keys()[0])}:")


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plaintext.

    Empty strings stay empty (nothing to hide, and "not set" must be visible). The column
    cannot be searched or compared in SQL, by design.
    """

    description = "Text encrypted with AES-256-GCM"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value: Any) -> Any:
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


def mask(secret: str, *, keep: int = 4) -> str:
    """What the UI shows of a saved secret: its last characters only."""
    if not secret:
        return ""
    if len(secret) <= keep * 2:
        return "•" * 8
    return "•" * 8 + secret[-keep:]
