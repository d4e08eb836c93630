"""``erpcare_seed_demo``: create the demo data set once and print how to sign in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from erpcare.demo import DEMO_PASSWORD
from erpcare.demo.data import SIGN_INS
from erpcare.demo.plan import DEFAULT_TICKETS, HISTORY_DAYS
from erpcare.demo.seed import DemoConflict, seed_demo

MAX_TICKETS = 50_000


def sign_in_table() -> str:
    """The demo sign-ins as a plain-text table (all share one password)."""
    width_role = max(len(role) for role, _email, _what in SIGN_INS)
    width_email = max(len(email) for _role, email, _what in SIGN_INS)
    lines = [f"{'who':<{width_role}}  {'e-mail':<{width_email}}  what to try"]
    lines.append(f"{'-' * width_role}  {'-' * width_email}  {'-' * 11}")
    lines += [
        f"{role:<{width_role}}  {email:<{width_email}}  {what}" for role, email, what in SIGN_INS
    ]
    lines.append(f"\nPassword for every demo account: {DEMO_PASSWORD}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Create the ERPCare demo data set: 5 customers, 16 staff in L1/L2/L3 teams and "
        f"{DEFAULT_TICKETS} tickets over the last {HISTORY_DAYS} days, through the real ticket "
        "actions. Does nothing if the demo already exists. Needs a migrated database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tickets",
            type=int,
            default=DEFAULT_TICKETS,
            help=f"how many tickets to create on the first run (default {DEFAULT_TICKETS})",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="print nothing (errors still go to stderr)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tickets = options["tickets"]
        if not 1 <= tickets <= MAX_TICKETS:
            raise CommandError(f"--tickets must be between 1 and {MAX_TICKETS}.")
        quiet = options["quiet"]

        def progress(message: str) -> None:
            if not quiet:
                self.stdout.write(f"  … {message}")

        if not quiet:
            self.stdout.write("Seeding the ERPCare demo data set …")
        try:
            result = seed_demo(tickets=tickets, progress=progress)
        except DemoConflict as error:
            raise CommandError(str(error)) from error
        if quiet:
            return
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data created: {result.tickets} tickets in {result.seconds:.1f} s."
                )
            )
        else:
            self.stdout.write(
                f"The demo data set already exists ({result.tickets} tickets); nothing changed."
            )
        site = settings.SITE_URL
        self.stdout.write(
            f"\nOpen {site}/ — agents work in {site}/desk/, customers in {site}/portal/, "
            f"the API is documented at {site}/api/v1/docs\n"
        )
        self.stdout.write(sign_in_table())
