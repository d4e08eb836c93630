"""``erpcare alerts replay|process``: the alert pipeline by hand.

- ``alerts process``: process every stored payload waiting in the queue now (what the
  worker's poller does continuously), then exit;
- ``alerts replay --payload ID [--payload ID …] | --failed | --since ISO-TIME``: put the
  chosen payloads back to received (their attempts are kept) and process them again —
  after fixing a routing rule or a parser, or for a payload that failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from erpcare.monitoring import ingest, worker


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since needs an ISO date or time, not {text!r}.") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Alert pipeline: process waiting payloads now, or replay stored payloads."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("process", help="Process every waiting payload now, then exit.")
        replay = sub.add_parser("replay", help="Process stored payloads again.")
        chosen = replay.add_mutually_exclusive_group(required=True)
        chosen.add_argument(
            "--payload", type=int, action="append", metavar="ID", help="This payload (repeatable)."
        )
        chosen.add_argument("--failed", action="store_true", help="Every failed payload.")
        chosen.add_argument(
            "--since", type=_moment, metavar="ISO", help="Every payload received since then."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "process":
            totals = worker.drain()
            self.stdout.write(" ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "idle")
            return
        self._replay(options.get("payload") or [], options["failed"], options.get("since"))

    def _replay(self, ids: list[int], failed: bool, since: datetime | None) -> None:
        chosen = list(
            ingest.select_for_replay(ids=ids, failed=failed, since=since).values_list(
                "pk", flat=True
            )
        )
        missing = sorted(set(ids) - set(chosen))
        if missing:
            raise CommandError(f"There is no alert payload {', '.join(map(str, missing))}.")
        if not chosen:
            self.stdout.write("No payloads to replay.")
            return
        done = worker.replay(chosen)
        states: dict[str, int] = {}
        for payload in done:
            states[payload.state] = states.get(payload.state, 0) + 1
        summary = " ".join(f"{k}={v}" for k, v in sorted(states.items()))
        self.stdout.write(f"Replayed {len(done)} payloads: {summary}")
        for payload in done:
            if payload.error:
                self.stdout.write(f"  #{payload.pk} {payload.state}: {payload.error[:200]}")
