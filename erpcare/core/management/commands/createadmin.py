"""``erpcare createadmin``: create (or reset the password of) an administrator."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from erpcare.accounts.models import User
from erpcare.accounts.services import create_user


class Command(BaseCommand):
    help = (
        "Create an administrator. The password comes from --password-file, "
        "ERPCARE_ADMIN_PASSWORD or a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="Administrator")
        parser.add_argument("--password-file", help="read the password from this file")
        parser.add_argument(
            "--reset", action="store_true", help="set a new password if the user exists"
        )

    def _password(self, options: dict[str, Any]) -> str:
        if options["password_file"]:
            with open(options["password_file"], encoding="utf-8") as handle:
                return handle.read().strip()
        if os.environ.get("ERPCARE_ADMIN_PASSWORD"):
            return os.environ["ERPCARE_ADMIN_PASSWORD"]
        if not sys.stdin.isatty():
            raise CommandError("no password: use --password-file or ERPCARE_ADMIN_PASSWORD")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the passwords do not match")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None and not options["reset"]:
            raise CommandError(f"{email} already exists (use --reset to set a new password)")
        password = self._password(options)
        try:
            validate_password(password, existing)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if existing is not None:
            if existing.role.code != "admin":
                raise CommandError(f"{email} exists and is not an administrator")
            existing.set_password(password)
            existing.save(update_fields=["password"])
            self.stdout.write(f"New password set for {email}")
            return
        create_user(email=email, display_name=options["name"], role_code="admin", password=password)
        self.stdout.write(f"Administrator {email} created")
