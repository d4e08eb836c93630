"""Which customers and ERP instances each role may see."""

from __future__ import annotations

import pytest

from erpcare.accounts.models import Team
from erpcare.accounts.services import add_team_member
from erpcare.core.errors import NotFound
from erpcare.customers.models import ErpInstance, Organization
from erpcare.customers.services import (
    get_erp_instance_for,
    get_organization_for,
    visible_erp_instances,
    visible_organizations,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def initech(cast):
    """A third customer nobody's dedicated team serves."""
    org = Organization.objects.create(code="initech", name="Initech")
    ErpInstance.objects.create(organization=org, name="Initech ERPNext", product="erpnext")
    return org


EXPECTED = {
    "alice": {"acme"},
    "alice2": {"acme"},
    "bob": {"globex"},
    "vera": {"acme"},
    "lina": {"acme", "globex", "initech"},
    "eric": {"acme", "globex", "initech"},
    "xu": {"acme", "globex", "initech"},
    "mona": {"acme", "globex", "initech"},
    "adam": {"acme", "globex", "initech"},
    "audra": {"acme", "globex", "initech"},
}


@pytest.mark.parametrize(("who", "codes"), EXPECTED.items())
def test_visible_organizations_per_role(cast, initech, who, codes):
    user = getattr(cast, who)
    assert {org.code for org in visible_organizations(user)} == codes
    assert {i.organization.code for i in visible_erp_instances(user)} == codes


def test_agent_in_several_dedicated_teams_sees_each_teams_customers(cast, initech):
    team = Team.objects.create(
        code="l1-initech", name="Initech", tier=1, serves_all_customers=False
    )
    team.customers.add(initech)
    add_team_member(team=team, user=cast.vera)
    cast.vera.refresh_from_db()
    assert {org.code for org in visible_organizations(cast.vera)} == {"acme", "initech"}


def test_agent_without_a_team_sees_no_customer(cast):
    cast.vera.teams.clear()
    cast.vera.refresh_from_db()
    assert not visible_organizations(cast.vera).exists()


def test_inactive_user_sees_no_customer(cast):
    cast.mona.is_active = False
    cast.mona.save()
    assert not visible_organizations(cast.mona).exists()
    assert not visible_erp_instances(cast.mona).exists()


def test_get_organization_for_hides_what_is_out_of_scope(cast):
    assert get_organization_for(cast.alice, "acme") == cast.acme
    for code in ("globex", "nope", "", "ac\x00me"):
        with pytest.raises(NotFound, match="Customer not found"):
            get_organization_for(cast.alice, code)


def test_get_erp_instance_for_hides_what_is_out_of_scope(cast):
    assert get_erp_instance_for(cast.alice, cast.acme_erp.pk) == cast.acme_erp
    for instance_id in (cast.globex_erp.pk, 999_999):
        with pytest.raises(NotFound, match="ERP instance not found"):
            get_erp_instance_for(cast.alice, instance_id)
    with pytest.raises(NotFound):
        get_erp_instance_for(cast.vera, cast.globex_erp.pk)
