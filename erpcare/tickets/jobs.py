"""The tickets app's periodic jobs (registered in TicketsConfig.ready)."""

from __future__ import annotations

from erpcare.tickets.services import auto_close_resolved


def auto_close() -> dict[str, int]:
    return {"closed": auto_close_resolved()}
