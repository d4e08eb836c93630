"""Read mailboxes over IMAP: store every new message first, then process it.

Per folder, the UID high-water mark (``MailboxFolder.last_uid``) is only meaningful with
its UIDVALIDITY; when the server changes UIDVALIDITY we start the folder again, and the
stored messages' Message-IDs keep a re-read from opening tickets twice. Messages are
marked \\Seen once processed and never deleted from the server.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from erpcare.channels.email.inbound.intake import process_message, process_stale, store_raw
from erpcare.channels.models import IntakeState, Mailbox, MailboxFolder
from erpcare.channels.models.email import MailSecurity
from erpcare.core import clock
from erpcare.core.errors import ActionError

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
BATCH = 25


def connect(mailbox: Mailbox) -> IMAPClient:
    """Signed-in client; raises ActionError with the server's reason."""
    context = ssl.create_default_context()
    try:
        if mailbox.imap_security == MailSecurity.TLS:
            client = IMAPClient(
                mailbox.imap_host,
                port=mailbox.imap_port,
                ssl=True,
                ssl_context=context,
                timeout=TIMEOUT_SECONDS,
            )
        else:
            client = IMAPClient(
                mailbox.imap_host, port=mailbox.imap_port, ssl=False, timeout=TIMEOUT_SECONDS
            )
            if mailbox.imap_security == MailSecurity.STARTTLS:
                client.starttls(context)
    except (TimeoutError, OSError, IMAPClientError) as exc:
        raise ActionError(
            _("Cannot connect to %(host)s:%(port)s: %(error)s")
            % {"host": mailbox.imap_host, "port": mailbox.imap_port, "error": exc}
        ) from exc
    try:
        client.login(mailbox.imap_username, mailbox.imap_password or "")
    except (LoginError, IMAPClientError, OSError) as exc:
        _close(client)
        raise ActionError(
            _("The IMAP server refused the sign-in: %(error)s") % {"error": _reason(exc)}
        ) from exc
    return client


def _reason(exc: Exception) -> str:
    text = str(exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            log.debug("IMAP shutdown failed", exc_info=True)


def imap_check(mailbox: Mailbox) -> str:
    """Sign in and list the folders (the channel admin's "test" button)."""
    client = connect(mailbox)
    try:
        names = [str(name) for _flags, _delimiter, name in client.list_folders()]
    except (IMAPClientError, OSError) as exc:
        raise ActionError(
            _("The IMAP server refused to list folders: %(error)s") % {"error": _reason(exc)}
        ) from exc
    finally:
        _close(client)
    missing = [name for name in mailbox.folder_names if name not in names]
    message = _("Signed in to %(host)s. Folders: %(folders)s.") % {
        "host": mailbox.imap_host,
        "folders": ", ".join(sorted(names)),
    }
    if missing:
        raise ActionError(
            message + " " + _("Missing: %(folders)s.") % {"folders": ", ".join(missing)}
        )
    return message


def fetch_mailbox(mailbox: Mailbox) -> dict[str, int]:
    """Fetch and process what is new in every folder of ``mailbox``."""
    counts = {"fetched": 0, "stored": 0, "skipped": 0, "processed": 0, "failed": 0}
    try:
        client = connect(mailbox)
        try:
            for folder in mailbox.folder_names:
                _fetch_folder(client, mailbox, folder, counts)
        finally:
            _close(client)
    except Exception as exc:
        error = exc.message if isinstance(exc, ActionError) else f"{type(exc).__name__}: {exc}"
        Mailbox.objects.filter(pk=mailbox.pk).update(last_fetch_at=clock.now(), last_error=error)
        raise
    Mailbox.objects.filter(pk=mailbox.pk).update(last_fetch_at=clock.now(), last_error="")
    return counts


def _fetch_folder(
    client: IMAPClient, mailbox: Mailbox, folder: str, counts: dict[str, int]
) -> None:
    info = client.select_folder(folder)
    uidvalidity = int(info[b"UIDVALIDITY"])
    state, _created = MailboxFolder.objects.get_or_create(mailbox=mailbox, name=folder)
    if state.uidvalidity != uidvalidity:
        # The server renumbered the folder: our UIDs mean nothing any more.
        MailboxFolder.objects.filter(pk=state.pk).update(uidvalidity=uidvalidity, last_uid=0)
        state.uidvalidity, state.last_uid = uidvalidity, 0
    # "n:*" always matches the newest message, even below n: filter again.
    uids = sorted(uid for uid in client.search(["UID", f"{state.last_uid + 1}:*"]))
    uids = [uid for uid in uids if uid > state.last_uid]
    for batch in _chunks(uids, BATCH):
        response: dict[int, dict[bytes, Any]] = client.fetch(batch, ["BODY.PEEK[]"])
        new_rows = []
        for uid in batch:
            data = response.get(uid, {})
            raw = data.get(b"BODY[]")
            if raw is None:
                continue
            counts["fetched"] += 1
            row = store_raw(
                bytes(raw), mailbox=mailbox, folder=folder, uidvalidity=uidvalidity, uid=uid
            )
            if row is None:
                counts["skipped"] += 1  # another worker stored it first and processes it
                continue
            counts["stored"] += 1
            new_rows.append((uid, row))
        MailboxFolder.objects.filter(
            pk=state.pk, uidvalidity=uidvalidity, last_uid__lt=max(batch)
        ).update(last_uid=max(batch))
        seen = []
        for uid, row in new_rows:
            if row.state != IntakeState.RECEIVED:
                counts["failed"] += 1  # stored but refused (too large)
                continue
            result = process_message(row.pk)
            if result.state == IntakeState.FAILED:
                counts["failed"] += 1
            else:
                counts["processed"] += 1
                seen.append(uid)
        if seen:
            client.add_flags(seen, [b"\\Seen"], silent=True)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fetch_all() -> dict[str, int]:
    """Every active mailbox; one that fails is recorded on the mailbox and skipped. Then
    any message a stopped worker stored but never processed."""
    totals = {"mailboxes": 0, "errors": 0, "stored": 0, "processed": 0, "failed": 0, "stale": 0}
    for mailbox in Mailbox.objects.filter(is_active=True).order_by("pk"):
        totals["mailboxes"] += 1
        try:
            counts = fetch_mailbox(mailbox)
        except Exception:
            totals["errors"] += 1
            log.warning("fetching mailbox %s failed", mailbox.pk, exc_info=True)
            continue
        for key in ("stored", "processed", "failed"):
            totals[key] += counts[key]
    totals["stale"] = process_stale()
    return totals
