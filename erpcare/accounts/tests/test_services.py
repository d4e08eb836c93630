"""Users, roles, teams and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from erpcare.accounts import services
from erpcare.accounts.models import ApiToken, RoleCode, TeamMembership, User
from erpcare.audit.models import AuditEntry
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)


def state():
    return (
        list(User.objects.order_by("pk").values()),
        list(ApiToken.objects.order_by("pk").values()),
        list(TeamMembership.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


# --- users ---------------------------------------------------------------------------


def test_user_email_is_stored_lowercase_and_the_creation_is_audited(cast):
    user = services.create_user(
        email="  Zhang.Wei@Acme.Example ",
        display_name="张伟",
        role_code="customer",
        organization=cast.acme,
        actor=cast.adam,
    )
    assert user.email == "zhang.wei@acme.example"
    assert user.is_customer
    audit = AuditEntry.objects.get(action="user.created", target_id=str(user.pk))
    assert (audit.actor, audit.data) == (cast.adam, {"role": "customer"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role_code": "customer"}, "customer user needs an organization"),
        (
            {"role_code": "l1_agent", "organization": "acme"},
            "Staff users belong to no organization",
        ),
        ({"role_code": "wizard"}, "Unknown role: wizard"),
        ({"role_code": "l1_agent", "email": "LINA@erpcare.example"}, "already exists"),
        ({"role_code": "l1_agent", "email": "not-an-address"}, "valid e-mail address"),
        ({"role_code": "l1_agent", "email": ""}, "valid e-mail address"),
    ],
)
def test_invalid_users_are_refused(cast, kwargs, message):
    values = {"email": "new@erpcare.example", "display_name": "New", **kwargs}
    if values.get("organization") == "acme":
        values["organization"] = cast.acme
    before = state()
    with pytest.raises(ActionError, match=message):
        services.create_user(**values)
    assert state() == before


def test_admin_changes_a_staff_role(cast):
    services.change_role(actor=cast.adam, user=cast.lina, role_code="l2_engineer")
    cast.lina.refresh_from_db()
    assert cast.lina.role.code == RoleCode.L2_ENGINEER
    audit = AuditEntry.objects.get(action="user.role_changed")
    assert audit.data == {"old": "l1_agent", "new": "l2_engineer"}


@pytest.mark.parametrize("actor", ["mona", "lina", "alice", "audra"])
def test_only_admins_change_roles(cast, actor):
    before = state()
    with pytest.raises(NotAllowed, match="Only administrators"):
        services.change_role(actor=getattr(cast, actor), user=cast.lina, role_code="manager")
    assert state() == before


@pytest.mark.parametrize(("user", "role"), [("alice", "l1_agent"), ("lina", "customer")])
def test_customers_and_staff_cannot_swap_roles(cast, user, role):
    before = state()
    with pytest.raises(ActionError, match="cannot swap roles"):
        services.change_role(actor=cast.adam, user=getattr(cast, user), role_code=role)
    assert state() == before


def test_same_role_is_a_no_op(cast):
    before = state()
    services.change_role(actor=cast.adam, user=cast.lina, role_code="l1_agent")
    assert state() == before


# --- teams ---------------------------------------------------------------------------


def test_agents_and_managers_join_teams(cast):
    services.add_team_member(team=cast.l2_platform, user=cast.mona, is_lead=True, actor=cast.adam)
    services.add_team_member(team=cast.l2_platform, user=cast.xu)
    membership = TeamMembership.objects.get(team=cast.l2_platform, user=cast.mona)
    assert membership.is_lead
    assert set(cast.l2_platform.members.all()) == {cast.eric, cast.mona, cast.xu}


def test_joining_twice_updates_the_lead_flag(cast):
    services.add_team_member(team=cast.l1_desk, user=cast.lina, is_lead=True)
    assert TeamMembership.objects.filter(team=cast.l1_desk, user=cast.lina).count() == 1
    assert TeamMembership.objects.get(team=cast.l1_desk, user=cast.lina).is_lead


@pytest.mark.parametrize("who", ["alice", "audra", "adam"])
def test_customers_auditors_and_admins_are_not_team_members(cast, who):
    before = state()
    with pytest.raises(ActionError, match="Only agents and managers"):
        services.add_team_member(team=cast.l1_desk, user=getattr(cast, who))
    assert state() == before


# --- API tokens ----------------------------------------------------------------------


def test_token_is_shown_once_and_only_its_digest_is_stored(cast):
    token, raw = services.create_api_token(user=cast.lina, name="  nightly export ")
    kind, prefix, secret = raw.split("_", 2)
    assert (kind, prefix) == ("erc", token.prefix)
    assert token.name == "nightly export"
    assert secret not in token.digest
    assert len(token.digest) == 64
    assert services.user_for_token(raw) == cast.lina


def test_token_expires_after_the_given_days(cast, settings):
    with clock.frozen_at(T0):
        default, _raw = services.create_api_token(user=cast.lina, name="default")
        short, _raw = services.create_api_token(user=cast.lina, name="short", days=1)
    assert default.expires_at == T0 + timedelta(days=settings.ERPCARE_API_TOKEN_DAYS)
    assert short.expires_at == T0 + timedelta(days=1)


@pytest.mark.parametrize(
    ("name", "days", "message"),
    [("", None, "Give the token a name"), ("  ", None, "name"), ("x", 0, "between 1 and 3650"),
     ("x", 3651, "between 1 and 3650")],
)  # fmt: skip
def test_invalid_tokens_are_refused(cast, name, days, message):
    before = state()
    with pytest.raises(ActionError, match=message):
        services.create_api_token(user=cast.lina, name=name, days=days)
    assert state() == before


def test_token_creation_and_revocation_are_audited(cast):
    token, _raw = services.create_api_token(user=cast.lina, name="ci")
    services.revoke_api_token(actor=cast.lina, token=token)
    created = AuditEntry.objects.get(action="token.created", target_id=str(token.pk))
    revoked = AuditEntry.objects.get(action="token.revoked", target_id=str(token.pk))
    assert (created.actor, revoked.actor) == (cast.lina, cast.lina)
    assert created.data == revoked.data == {"user": cast.lina.email}
    assert "digest" not in str(created.data)


def test_nobody_but_an_admin_creates_tokens_for_someone_else(cast):
    services.create_api_token(user=cast.lina, name="for lina", actor=cast.adam)
    before = state()
    with pytest.raises(NotAllowed, match="your own"):
        services.create_api_token(user=cast.lina, name="stolen", actor=cast.eric)
    assert state() == before


def test_revoked_token_stops_working_and_revoking_again_is_harmless(cast):
    token, raw = services.create_api_token(user=cast.lina, name="ci")
    services.revoke_api_token(actor=cast.lina, token=token)
    services.revoke_api_token(actor=cast.lina, token=token)
    assert services.user_for_token(raw) is None
    assert AuditEntry.objects.filter(action="token.revoked").count() == 1


def test_admin_may_revoke_anyones_token_others_may_not(cast):
    token, _raw = services.create_api_token(user=cast.lina, name="ci")
    before = state()
    with pytest.raises(NotAllowed, match="only revoke your own"):
        services.revoke_api_token(actor=cast.mona, token=token)
    assert state() == before
    services.revoke_api_token(actor=cast.adam, token=token)
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_expired_token_is_refused(cast):
    with clock.frozen_at(T0):
        _token, raw = services.create_api_token(user=cast.lina, name="short", days=1)
    with clock.frozen_at(T0 + timedelta(days=1) - timedelta(seconds=1)):
        assert services.user_for_token(raw) == cast.lina
    with clock.frozen_at(T0 + timedelta(days=1)):
        assert services.user_for_token(raw) is None


def test_token_of_an_inactive_user_is_refused(cast):
    _token, raw = services.create_api_token(user=cast.lina, name="ci")
    cast.lina.is_active = False
    cast.lina.save()
    assert services.user_for_token(raw) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # wrong secret
        lambda raw: raw.replace("erc_", "xyz_", 1),  # wrong kind
        lambda raw: raw.rsplit("_", 1)[0],  # no secret
        lambda raw: "erc_" + "0" * 12 + "_" + raw.split("_", 2)[2],  # unknown prefix
        lambda raw: "erc_" + raw.split("_", 2)[1].upper() + "_" + raw.split("_", 2)[2],
        lambda raw: "erc_ab\x00cd_secret",
        lambda raw: "",
        lambda raw: "erc__",
    ],
)
def test_malformed_or_wrong_tokens_are_refused(cast, mangle):
    _token, raw = services.create_api_token(user=cast.lina, name="ci")
    assert services.user_for_token(mangle(raw)) is None


def test_last_use_is_recorded_at_most_once_a_minute(cast):
    with clock.frozen_at(T0):
        token, raw = services.create_api_token(user=cast.lina, name="ci")
        services.user_for_token(raw)
    token.refresh_from_db()
    assert token.last_used_at == T0
    with clock.frozen_at(T0 + timedelta(seconds=30)):
        services.user_for_token(raw)
    token.refresh_from_db()
    assert token.last_used_at == T0
    with clock.frozen_at(T0 + timedelta(minutes=2)):
        services.user_for_token(raw)
    token.refresh_from_db()
    assert token.last_used_at == T0 + timedelta(minutes=2)
