"""Writing the audit trail. Every action function calls ``record`` inside its transaction,
so an action and its audit row commit or roll back together."""

from __future__ import annotations

from typing import Any

from django.db import models

from erpcare.audit.models import AuditEntry
from erpcare.core import clock
from erpcare.core.context import current_origin


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    origin = current_origin()
    is_user = actor is not None and getattr(actor, "pk", None) is not None
    return AuditEntry.objects.create(
        created_at=clock.now(),
        actor=actor if is_user else None,
        actor_label=getattr(actor, "email", "") if is_user else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        channel=origin.channel,
        ip=origin.ip,
        user_agent=origin.user_agent,
        data=data or {},
    )
