"""``erpcare secrets rotate``: re-encrypt every stored secret with the current key.

After putting a new key first in ERPCARE_ENCRYPTION_KEY (old keys after it), run this once;
then the old keys can be removed from the variable.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from erpcare.core import crypto


def encrypted_fields() -> list[tuple[Any, str]]:
    """(model, field name) for every EncryptedTextField of every installed model."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, crypto.EncryptedTextField):
                found.append((model, field.name))
    return found


def rotate() -> dict[str, int]:
    """Re-encrypt the values not yet under the current key; returns counts per model field."""
    counts: dict[str, int] = {}
    for model, name in encrypted_fields():
        column = model._meta.get_field(name).column
        table = model._meta.db_table
        pk = model._meta.pk.column
        quote = connection.ops.quote_name
        changed = 0
        with transaction.atomic():
            # Raw SQL: the field would decrypt on read, and we need the stored form to know
            # which key sealed it.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "  # noqa: S608
                    f"WHERE {quote(column)} <> ''"
                )
                rows = cursor.fetchall()
            for row_pk, stored in rows:
                if stored is None or crypto.is_current(stored):
                    continue
                plaintext = crypto.decrypt(stored)
                model._default_manager.filter(pk=row_pk).update(**{name: plaintext})
                changed += 1
        counts[f"{model._meta.label}.{name}"] = changed
    return counts


class Command(BaseCommand):
    help = "Manage encrypted secrets: 'rotate' re-encrypts every value with the current key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rotate", "check"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "check":
            bad = 0
            for model, name in encrypted_fields():
                try:
                    for _value in model._default_manager.values_list(name, flat=True):
                        pass
                except crypto.DecryptionError as exc:
                    bad += 1
                    self.stderr.write(f"{model._meta.label}.{name}: {exc}")
            if bad:
                raise CommandError(f"{bad} field(s) cannot be decrypted with the configured keys")
            self.stdout.write("every stored secret decrypts with the configured keys")
            return
        try:
            counts = rotate()
        except crypto.DecryptionError as exc:
            raise CommandError(f"cannot rotate: {exc}") from exc
        for label, count in counts.items():
            self.stdout.write(f"{label}: {count} re-encrypted")
