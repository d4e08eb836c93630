"""Survey services: invitations, signed links, answers, scoping and the KPI figures."""

from erpcare.surveys.services.access import visible_responses
from erpcare.surveys.services.answers import answer, can_reopen, reopen_from_survey
from erpcare.surveys.services.invitations import invite_csat, invite_nps, open_invitation
from erpcare.surveys.services.stats import CsatSummary, NpsSummary, csat_summary, nps_summary
from erpcare.surveys.services.tokens import link_url, make_token, read_token

__all__ = [
    "CsatSummary",
    "NpsSummary",
    "answer",
    "can_reopen",
    "csat_summary",
    "invite_csat",
    "invite_nps",
    "link_url",
    "make_token",
    "nps_summary",
    "open_invitation",
    "read_token",
    "reopen_from_survey",
    "visible_responses",
]
