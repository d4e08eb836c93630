from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from erpcare.accounts.models import User
from erpcare.core.schemas import ERRORS

router = Router(tags=["me"])


class TeamOut(Schema):
    code: str
    name: str
    tier: int


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    role: str
    organization: str | None
    language: str
    time_zone: str
    teams: list[TeamOut]
    date_joined: datetime

    @staticmethod
    def resolve_role(obj: User) -> str:
        return obj.role.code

    @staticmethod
    def resolve_organization(obj: User) -> str | None:
        return obj.organization.code if obj.organization_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_teams(obj: User) -> list[object]:
        return list(obj.teams.all())


@router.get("/me", response={200: MeOut, **ERRORS})
def me(request: HttpRequest) -> object:
    """The signed-in user, their role, organization and teams."""
    return request.user
