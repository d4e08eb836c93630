"""``erpcare mail fetch|reprocess|import``: the e-mail intake by hand.

- ``mail fetch [--mailbox ID]``: fetch every active mailbox (or one) now;
- ``mail reprocess ID`` / ``mail reprocess --failed``: run failed (or held) messages again;
- ``mail import FILE.eml [--mailbox ID]``: store and process a message from a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erpcare.audit.services import record
from erpcare.channels.email.inbound import fetch, intake
from erpcare.channels.models import InboundEmail, IntakeState, Mailbox
from erpcare.core.errors import ActionError


class Command(BaseCommand):
    help = "E-mail intake: fetch mailboxes, re-process failed messages, import .eml files."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fetch_parser = sub.add_parser("fetch", help="Fetch new mail now.")
        fetch_parser.add_argument("--mailbox", type=int, help="Only this mailbox (id).")
        again = sub.add_parser("reprocess", help="Process failed or held messages again.")
        again.add_argument("id", nargs="?", type=int, help="The incoming e-mail's id.")
        again.add_argument("--failed", action="store_true", help="Every failed message.")
        imported = sub.add_parser("import", help="Store and process a .eml file.")
        imported.add_argument("file", type=Path)
        imported.add_argument("--mailbox", type=int, help="As if received by this mailbox.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "fetch":
            self._fetch(options.get("mailbox"))
        elif action == "reprocess":
            self._reprocess(options.get("id"), failed=bool(options.get("failed")))
        else:
            self._import(options["file"], options.get("mailbox"))

    def _mailbox(self, mailbox_id: int | None) -> Mailbox | None:
        if mailbox_id is None:
            return None
        found = Mailbox.objects.filter(pk=mailbox_id).first()
        if found is None:
            raise CommandError(f"There is no mailbox {mailbox_id}.")
        return found

    def _fetch(self, mailbox_id: int | None) -> None:
        mailbox = self._mailbox(mailbox_id)
        if mailbox is None:
            totals = fetch.fetch_all()
            self.stdout.write(" ".join(f"{k}={v}" for k, v in totals.items()))
            return
        try:
            counts = fetch.fetch_mailbox(mailbox)
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))

    def _reprocess(self, message_id: int | None, *, failed: bool) -> None:
        if (message_id is None) == (not failed):
            raise CommandError("Give a message id or --failed (not both).")
        if failed:
            ids = list(
                InboundEmail.objects.filter(state=IntakeState.FAILED)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        else:
            ids = [message_id] if message_id is not None else []
        for pk in ids:
            message = InboundEmail.objects.filter(pk=pk).first()
            if message is None:
                raise CommandError(f"There is no incoming e-mail {pk}.")
            if message.state not in {IntakeState.FAILED, IntakeState.HELD}:
                raise CommandError(f"E-mail {pk} is {message.state}, not failed or held.")
            InboundEmail.objects.filter(pk=pk, state=message.state).update(
                state=IntakeState.RECEIVED
            )
            result = intake.process_message(pk, allow_flood=True)
            record(
                actor=None,
                action="channels.inbound_email.reprocessed",
                target=result,
                data={"previous": message.state, "state": result.state, "via": "command"},
            )
            self._report(result)

    def _import(self, path: Path, mailbox_id: int | None) -> None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        self._report(intake.import_eml(raw, mailbox=self._mailbox(mailbox_id)))

    def _report(self, message: InboundEmail) -> None:
        detail = message.reason or ""
        if message.ticket_id:
            detail = f"ticket={message.ticket.number if message.ticket else message.ticket_id}"
        if message.error:
            detail = message.error.splitlines()[-1]
        self.stdout.write(f"{message.pk} {message.state} {detail}".rstrip())
