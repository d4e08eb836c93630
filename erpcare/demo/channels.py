"""Demo data for the channels: mail domains per customer, an example robot, the rules.

The demo replays months of history through the real ticket actions, which publish
outbox events; those are history, not news, so they are marked as fanned out here and
nobody is e-mailed about a ticket closed last summer when the worker starts.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps

from erpcare.accounts.models import User
from erpcare.channels.models import (
    CustomerMailDomain,
    Destination,
    DestinationKind,
    Event,
    Mailbox,
    MailSecurity,
    UnknownSenderPolicy,
)
from erpcare.core import clock
from erpcare.customers.models import Organization

ROBOT_NAME = "Example WeCom group (disabled)"
# A documentation-only URL: the robot is inactive and must never be reached.
ROBOT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=00000000-demo-only"


def seed_channels(organizations: list[Organization]) -> dict[str, int]:
    """Runs inside the demo's transaction, after the history replay."""
    now = clock.now()
    historic = Event.objects.filter(dispatched_at__isnull=True).update(dispatched_at=now)
    domains = 0
    for org in organizations:
        emails = User.objects.filter(organization=org).values_list("email", flat=True)
        for domain in sorted(
            {email.rpartition("@")[2].lower() for email in emails if "@" in email}
        ):
            _row, created = CustomerMailDomain.objects.get_or_create(
                domain=domain, defaults={"organization": org}
            )
            domains += created
    Destination.objects.get_or_create(
        name=ROBOT_NAME,
        defaults={
            "kind": DestinationKind.WECOM,
            "url": ROBOT_URL,
            "url_hint": "qyapi.weixin.qq.com",
            "is_active": False,
            "events": ["ticket.created", "sla.breached", "incident.opened"],
            "priorities": [0, 1],
            "created_at": now,
        },
    )
    # Inactive: the demo has no mail server; an admin fills in a real one and activates it.
    Mailbox.objects.get_or_create(
        email="support@erpcare.demo",
        defaults={
            "name": "ERP support (demo, inactive)",
            "is_active": False,
            "imap_host": "imap.erpcare.demo",
            "imap_port": 993,
            "imap_security": MailSecurity.TLS,
            "imap_username": "support@erpcare.demo",
            "folders": ["INBOX"],
            "unknown_sender_policy": UnknownSenderPolicy.CONTACT_IN_DOMAIN,
            "created_at": now,
        },
    )
    import_module("erpcare.channels.migrations.0003_default_rules").create_defaults(apps, None)
    return {"historic_events": historic, "mail_domains": domains}
