"""What must never become a ticket: auto-replies, bounces, our own mail, and floods.

Replying to an out-of-office with a "ticket created" mail, which answers again, is how
help desks melt down; these checks run before any ticket work.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings

from erpcare.channels.email.inbound.parse import ParsedMessage
from erpcare.channels.models import InboundEmail, IntakeState, Mailbox
from erpcare.core import clock

AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
OWN_MAIL = "own_mail"
FLOOD = "flood"

_AUTO_SUBJECT = re.compile(
    r"^\s*(自动回复|自動回覆|自动答复|自動回復|Auto(matic)?[ -]?(reply|response)|Autoreply|"
    r"Out of (the )?Office|OOO\b|不在办公室|休假中|I am out of the office)",
    re.I,
)
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(Undeliver(able|ed)|Delivery Status Notification \(Failure\)|Mail delivery failed|"
    r"Returned mail|系统退信|退信|投递失败|邮件投递失败|未送达)",
    re.I,
)


def mail_domain() -> str:
    return str(settings.ERPCARE_MAIL_DOMAIN).lower()


def loop_reason(parsed: ParsedMessage) -> str:
    """Why this message must be ignored ("" when it may become a ticket)."""
    domain = mail_domain()
    if parsed.header("x-erpcare-loop").strip().lower() == domain:
        return OWN_MAIL
    if parsed.message_id.lower().startswith("<erpcare.") and parsed.message_id.lower().endswith(
        f"@{domain}>"
    ):
        return OWN_MAIL
    if Mailbox.objects.filter(email__iexact=parsed.from_address).exists():
        return OWN_MAIL
    if (
        parsed.content_type == "multipart/report"
        and parsed.report_type.lower() in {"delivery-status", ""}
    ) or _BOUNCE_SENDERS.match(parsed.from_address):
        return BOUNCE
    if _BOUNCE_SUBJECT.match(parsed.subject) and parsed.header("return-path").strip() == "<>":
        return BOUNCE
    auto_submitted = parsed.header("auto-submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return AUTO_REPLY
    if parsed.header("x-autoreply") or parsed.header("x-autorespond"):
        return AUTO_REPLY
    if parsed.header("precedence").strip().lower() in {"bulk", "junk", "list", "auto_reply"}:
        return AUTO_REPLY
    if _AUTO_SUBJECT.match(parsed.subject):
        return AUTO_REPLY
    return ""


def is_flood(message: InboundEmail) -> bool:
    """More than ``ERPCARE_MAIL_FLOOD_PER_HOUR`` messages from one sender within the hour
    before this one: the later ones wait for a person instead of opening tickets."""
    limit = int(settings.ERPCARE_MAIL_FLOOD_PER_HOUR)
    if not message.from_address or limit <= 0:
        return False
    since = (message.received_at or clock.now()) - timedelta(hours=1)
    earlier = (
        InboundEmail.objects.filter(
            from_address=message.from_address, received_at__gte=since, pk__lt=message.pk
        )
        .exclude(state=IntakeState.IGNORED)
        .count()
    )
    return earlier >= limit
