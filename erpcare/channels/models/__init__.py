"""Channel models: in-app notifications, the outbox, rules, e-mail and chat intake."""

from erpcare.channels.models.chat import ChatIntake, ChatMessage
from erpcare.channels.models.email import (
    CustomerMailDomain,
    EmailTemplate,
    InboundEmail,
    IntakeState,
    Mailbox,
    MailboxFolder,
    MailSecurity,
    MessageReference,
    UnknownSenderPolicy,
)
from erpcare.channels.models.notification import Notification
from erpcare.channels.models.outbox import (
    Delivery,
    DeliveryAttempt,
    DeliveryChannel,
    DeliveryState,
    Destination,
    DestinationKind,
    Event,
    EventName,
)
from erpcare.channels.models.rules import (
    NotificationPreference,
    NotificationRule,
    PersonalChannel,
    RecipientRole,
)

__all__ = [
    "ChatIntake",
    "ChatMessage",
    "CustomerMailDomain",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryChannel",
    "DeliveryState",
    "Destination",
    "DestinationKind",
    "EmailTemplate",
    "Event",
    "EventName",
    "InboundEmail",
    "IntakeState",
    "MailSecurity",
    "Mailbox",
    "MailboxFolder",
    "MessageReference",
    "Notification",
    "NotificationPreference",
    "NotificationRule",
    "PersonalChannel",
    "RecipientRole",
    "UnknownSenderPolicy",
]
