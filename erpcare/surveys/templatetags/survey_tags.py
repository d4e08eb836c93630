"""``{% survey_prompt ticket %}``: the CSAT buttons on the portal's ticket page."""

from __future__ import annotations

from typing import Any

from django import template

from erpcare.surveys.services.invitations import open_invitation, portal_links

register = template.Library()


@register.inclusion_tag("surveys/portal/_prompt.html", takes_context=True)
def survey_prompt(context: dict[str, Any], ticket: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_customer", False):
        return {"links": []}
    invitation = open_invitation(ticket, user)
    return {"links": portal_links(invitation) if invitation is not None else []}
