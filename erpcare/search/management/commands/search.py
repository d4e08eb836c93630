"""``erpcare search reindex [--kind article|ticket]`` and ``erpcare search vocabulary``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erpcare.search import registry
from erpcare.search.services import refresh_vocabulary, reindex


class Command(BaseCommand):
    help = "Search index operations: rebuild the index, refresh its vocabulary."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="action")
        rebuild = actions.add_parser(
            "reindex",
            help="Rebuild the index from the apps' data and remove stale entries.",
            description="Rebuild the index from the apps' data and remove stale entries.",
        )
        rebuild.add_argument(
            "--kind",
            action="append",
            dest="kinds",
            metavar="KIND",
            help="Only this kind (article, ticket); may be repeated. Default: every kind.",
        )
        rebuild.add_argument("--batch-size", type=int, default=1000)
        actions.add_parser(
            "vocabulary",
            help="Refresh the vocabulary snapshot used for typo correction.",
            description="Refresh the vocabulary snapshot used for typo correction.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["action"] == "vocabulary":
            terms = refresh_vocabulary()
            self.stdout.write(f"Vocabulary: {terms} terms ({time.monotonic() - started:.1f} s).")
            return
        kinds = options.get("kinds")
        unknown = sorted(set(kinds or []) - set(registry.kinds()))
        if unknown:
            raise CommandError(
                f"Unknown kind {', '.join(unknown)}; known: {', '.join(registry.kinds())}."
            )
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        counts = reindex(kinds, batch_size=options["batch_size"])
        summary = ", ".join(f"{kind}: {count}" for kind, count in counts.items()) or "nothing"
        self.stdout.write(f"Reindexed {summary} ({time.monotonic() - started:.1f} s).")
