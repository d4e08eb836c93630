"""``erpcare demo``: migrate, seed the demo data set (idempotent) and serve it."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Create the demo data set (once) and serve ERPCare with it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="seed only")
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--tickets", type=int, default=600)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("erpcare_seed_demo", tickets=options["tickets"])
        # A demo seeded by an older version has tickets without SLA clocks.
        call_command("erpcare_sla_backfill", verbosity=0)
        # Typo correction and similar-article weighting read the index's vocabulary,
        # which the worker otherwise refreshes only nightly.
        call_command("search", "vocabulary", verbosity=0)
        self.stdout.write(f"\nERPCare demo: http://{options['bind']}/\n")
        if not options["no_serve"]:
            call_command("erpcare_serve", bind=options["bind"])
