"""A real SMTP server on a free 127.0.0.1 port for the outbound mail tests (aiosmtpd).

It keeps every message it accepted, can answer the next N messages with a reply of the
test's choosing (451 or 550), and can require AUTH — on plain text, or after STARTTLS
with a self-signed certificate for 127.0.0.1 made with ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    messages: list[Received] = field(default_factory=list)
    # Replies to give to the next DATA commands instead of accepting, one per message.
    refusals: list[str] = field(default_factory=list)
    data_commands: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_commands += 1
            if self.refusals:
                return self.refusals.pop(0)
            self.messages.append(
                Received(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=[str(r) for r in envelope.rcpt_tos],
                    data=bytes(envelope.original_content or envelope.content),
                )
            )
        return "250 2.0.0 Ok: queued"


class SmtpServer:
    def __init__(
        self,
        *,
        username: str = "",
        password: str = "",
        tls_context: ssl.SSLContext | None = None,
        implicit_tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = Handler()
        self.port = _free_port()
        self.username, self.password = username, password
        options: dict[str, Any] = {}
        if username:
            options.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=tls_context is not None,
            )
        if tls_context is not None:
            options.update(tls_context=tls_context, require_starttls=True)
        if implicit_tls_context is not None:  # SMTPS: TLS from the first byte (port 465)
            options.update(ssl_context=implicit_tls_context)
        self.controller = Controller(
            self.handler, hostname=HOST, port=self.port, ready_timeout=10, **options
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        # handled=False: the server answers 535 itself (True would leave the client waiting).
        return AuthResult(success=ok, handled=False)

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def refuse_next(self, count: int, reply: str) -> None:
        with self.handler.lock:
            self.handler.refusals.extend([reply] * count)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(name="smtp_server")
def smtp_server_fixture() -> Iterator[SmtpServer]:
    """Import this into a test module to get the ``smtp_server`` fixture."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------------
# Outbox rows for the mail tests: an event shaped like the events module writes it
# ---------------------------------------------------------------------------


def snapshot_of(ticket: Any, **extra: Any) -> dict[str, Any]:
    """The event snapshot of a ticket, written out by hand so these tests do not depend
    on the events module's code (its own tests cover that it writes the same shape)."""
    from django.conf import settings

    def person(user: Any) -> dict[str, Any] | None:
        if user is None:
            return None
        return {"id": user.pk, "name": user.display_name, "email": user.email}

    site = settings.SITE_URL
    return {
        "ticket": {
            "id": ticket.pk,
            "number": ticket.number,
            "title": ticket.title,
            "type": ticket.type,
            "priority": ticket.priority,
            "status": ticket.status,
            "channel": ticket.channel,
            "module": ticket.module,
            "category": ticket.category,
            "organization": {
                "id": ticket.organization.pk,
                "code": ticket.organization.code,
                "name": ticket.organization.name,
            },
            "team": {"id": ticket.team.pk, "name": ticket.team.name} if ticket.team else None,
            "assignee": person(ticket.assignee),
            "requester": person(ticket.requester),
            "response_due_at": ticket.response_due_at.isoformat()
            if ticket.response_due_at
            else None,
            "resolution_due_at": ticket.resolution_due_at.isoformat()
            if ticket.resolution_due_at
            else None,
            "sla_state": ticket.sla_state,
            "created_at": ticket.created_at.isoformat(),
            "desk_url": f"{site}/desk/tickets/{ticket.number}/",
            "portal_url": f"{site}/portal/tickets/{ticket.number}/",
        },
        "actor": None,
        **extra,
    }


def mail_delivery(
    ticket: Any, name: str, *, recipient: Any = None, address: str = "", **extra: Any
) -> Any:
    """A pending e-mail delivery of a fresh event about the ticket (already fanned out,
    so the dispatcher leaves it alone)."""
    from erpcare.channels.models import Delivery, Event
    from erpcare.core import clock

    now = clock.now()
    event = Event.objects.create(
        name=name,
        ticket=ticket,
        organization=ticket.organization,
        team=ticket.team,
        priority=ticket.priority,
        data=snapshot_of(ticket, **extra),
        created_at=now,
        dispatched_at=now,
    )
    language = (recipient.language if recipient is not None else "") or "en"
    return Delivery.objects.create(
        event=event,
        channel="email",
        recipient=recipient,
        address=address,
        language=language,
        next_attempt_at=now,
        created_at=now,
    )
