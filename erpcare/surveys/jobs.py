"""The surveys app's periodic jobs (registered in SurveysConfig.ready)."""

from __future__ import annotations

from datetime import timedelta

from erpcare.core import clock
from erpcare.surveys.services import invitations


def invite_nps() -> dict[str, int]:
    """Invite each active customer contact not yet asked this quarter (NPS)."""
    return {"invited": invitations.invite_nps(clock.now())}


def csat_sweep() -> dict[str, int]:
    """Invite requesters of tickets resolved lately that have no CSAT invitation yet."""
    since = clock.now() - timedelta(days=invitations.link_days())
    created = 0
    for ticket_id in list(invitations.missing_csat(since)[:1000]):
        if invitations.invite_csat(ticket_id) is not None:
            created += 1
    return {"invited": created}
