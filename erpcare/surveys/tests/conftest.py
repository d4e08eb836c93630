"""Survey fixtures on top of the test cast (see erpcare/conftest.py).

``resolve(cast, ticket)`` resolves through the ticket action and runs the after-commit
callbacks, so the CSAT receiver fires as it does in production.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erpcare.accounts.services import add_team_member, create_api_token
from erpcare.conftest import PASSWORD, Cast
from erpcare.surveys.models import Invitation, SurveyKind
from erpcare.tickets.models import Status, Ticket
from erpcare.tickets.services import create_ticket, transition_ticket


def new_ticket(cast: Cast, **fields: Any) -> Ticket:
    fields.setdefault("title", "月末结账凭证无法过账")
    fields.setdefault("requester", cast.alice)
    fields.setdefault("organization", cast.acme)
    fields.setdefault("team", cast.l1_desk)
    return create_ticket(cast.lina, **fields)


@pytest.fixture
def resolve(django_capture_on_commit_callbacks: Any) -> Any:
    def run(cast: Cast, ticket: Ticket, actor: Any = None) -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            return transition_ticket(
                actor or cast.lina,
                ticket,
                to=Status.RESOLVED,
                resolution_code="configuration",
                resolution="Reopened accounting period 11.",
            )

    return run


@pytest.fixture
def invited(cast: Cast, resolve: Any) -> Invitation:
    """A CSAT invitation for alice's resolved ticket in l1-desk (lina is its lead)."""
    add_team_member(team=cast.l1_desk, user=cast.lina, is_lead=True)
    ticket = resolve(cast, new_ticket(cast))
    return Invitation.objects.get(ticket=ticket, kind=SurveyKind.CSAT)


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def api(user: Any) -> Client:
    _token, raw = create_api_token(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
