"""Default notification rules (editable afterwards). Rule names are data: English, short.

SLA events reach people by e-mail only: the SLA pass already rings their bell.
"""

from django.db import migrations

# (name, events, priorities, recipient roles, channels)
RULES = [
    # Not ticket.status_changed too: resolving would send two mails (status + resolved);
    # a status change that needs the requester comes with a public reply anyway.
    ("Requester: ticket updates",
     ["ticket.created", "ticket.commented", "ticket.resolved"],
     [], ["requester"], ["email"]),
    ("Assignee: replies and assignments", ["ticket.commented", "ticket.assigned"],
     [], ["assignee"], ["in_app", "email"]),
    ("Team: new tickets", ["ticket.created"], [], ["team"], ["in_app"]),
    ("Leads and managers: SLA breach", ["sla.breached"], [], ["team_leads", "managers"],
     ["email"]),
    ("Account manager: P0/P1 escalation", ["sla.escalated"], [0, 1], ["account_manager"],
     ["email"]),
]  # fmt: skip


def create_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    rule_model = apps.get_model("erpcare_channels", "NotificationRule")
    for position, (name, events, priorities, roles, channels) in enumerate(RULES, start=1):
        rule_model.objects.get_or_create(
            name=name,
            defaults={
                "position": position * 10,
                "events": events,
                "priorities": priorities,
                "recipient_roles": roles,
                "channels": channels,
            },
        )


def remove_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    rule_model = apps.get_model("erpcare_channels", "NotificationRule")
    rule_model.objects.filter(name__in=[rule[0] for rule in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("erpcare_channels", "0002_outbox_rules_mail_chat")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
