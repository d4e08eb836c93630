"""What the reason codes of held, ignored and failed intake mean, in words people read.

The codes are stored on ``InboundEmail.reason`` and ``ChatMessage.reason`` (stable, for
filters and scripts); the admin pages show these labels.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

REASON_LABELS = {
    "auto_reply": _("Auto-reply (out of office, auto-submitted)"),
    "bounce": _("Bounce (delivery failure report)"),
    "own_mail": _("Our own outgoing mail"),
    "flood": _("Too many messages from this sender within an hour"),
    "duplicate": _("Already received (same Message-ID)"),
    "too_large": _("Larger than the size limit"),
    "parse_error": _("The message could not be read"),
    "unknown_sender": _("Unknown sender"),
    "not_a_participant": _("Sender is not part of the ticket"),
    "unverified_staff": _(
        "Staff address in From without answering a mail we sent: possibly forged"
    ),
    "no_customer": _("No customer could be determined"),
    "other_customer": _("Sender belongs to another customer"),
    "sender_not_allowed": _("Sender is inactive or read-only"),
    "error": _("Error while processing"),
}


def reason_label(code: str) -> str:
    """The label of a reason code; an unknown code is shown as it is."""
    if not code:
        return ""
    label = REASON_LABELS.get(code)
    return str(label) if label is not None else code
