"""The test cast, built once per test on a fresh database.

Two customers — Acme (VIP, user alice) and Globex (standard, user bob) — and a support
organization: lina (L1, team l1-desk serving everyone), vera (L1, team l1-acme serving
only Acme), eric (L2, l2-platform), xu (L3, l3-experts), mona (manager), adam (admin)
and audra (auditor). Every password is ``correct horse 42``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.utils import translation

from erpcare.accounts.models import Team, User
from erpcare.accounts.services import add_team_member, create_api_token, create_user
from erpcare.customers.models import Contract, ErpInstance, Organization

PASSWORD = "correct horse 42"


@dataclass
class Cast:
    acme: Organization
    globex: Organization
    acme_erp: ErpInstance
    globex_erp: ErpInstance
    alice: User
    alice2: User
    bob: User
    lina: User
    vera: User
    eric: User
    xu: User
    mona: User
    adam: User
    audra: User
    l1_desk: Team
    l1_acme: Team
    l2_platform: Team
    l3_experts: Team

    def token(self, user: User) -> str:
        _token, raw = create_api_token(user=user, name="tests")
        return raw


def build_cast() -> Cast:
    acme = Organization.objects.create(code="acme", name="Acme 制造", tier="vip")
    globex = Organization.objects.create(code="globex", name="Globex Retail", tier="standard")
    for org, level in ((acme, "vip"), (globex, "standard")):
        Contract.objects.create(
            organization=org,
            name=f"{org.name} support 2026",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
            service_level=level,
            support_hours="24x7" if level == "vip" else "business",
        )
    acme_erp = ErpInstance.objects.create(
        organization=acme, name="Acme SAP PRD", product="sap", version="S/4HANA 2023",
        modules=["gl", "ap", "inventory", "production"],
    )  # fmt: skip
    globex_erp = ErpInstance.objects.create(
        organization=globex, name="Globex Odoo", product="odoo", version="17.0",
        modules=["sales", "inventory"],
    )  # fmt: skip

    def person(email: str, name: str, role: str, org: Organization | None = None) -> User:
        return create_user(
            email=email, display_name=name, role_code=role, password=PASSWORD, organization=org
        )

    alice = person("alice@acme.example", "Alice Wang", "customer", acme)
    alice2 = person("ann@acme.example", "Ann Li", "customer", acme)
    bob = person("bob@globex.example", "Bob Smith", "customer", globex)
    lina = person("lina@erpcare.example", "Lina Zhao", "l1_agent")
    vera = person("vera@erpcare.example", "Vera Chen", "l1_agent")
    eric = person("eric@erpcare.example", "Eric Liu", "l2_engineer")
    xu = person("xu@erpcare.example", "Xu Ming", "l3_expert")
    mona = person("mona@erpcare.example", "Mona Sun", "manager")
    adam = person("adam@erpcare.example", "Adam Admin", "admin")
    audra = person("audra@erpcare.example", "Audra Audit", "auditor")

    l1_desk = Team.objects.create(code="l1-desk", name="财务组 L1", tier=1)
    l1_acme = Team.objects.create(
        code="l1-acme", name="Acme 驻场组", tier=1, serves_all_customers=False
    )
    l1_acme.customers.add(acme)
    l2_platform = Team.objects.create(code="l2-platform", name="平台组", tier=2)
    l3_experts = Team.objects.create(code="l3-experts", name="专家组", tier=3)
    add_team_member(team=l1_desk, user=lina)
    add_team_member(team=l1_acme, user=vera)
    add_team_member(team=l2_platform, user=eric)
    add_team_member(team=l3_experts, user=xu)
    return Cast(
        acme=acme, globex=globex, acme_erp=acme_erp, globex_erp=globex_erp,
        alice=alice, alice2=alice2, bob=bob, lina=lina, vera=vera, eric=eric, xu=xu,
        mona=mona, adam=adam, audra=audra,
        l1_desk=l1_desk, l1_acme=l1_acme, l2_platform=l2_platform, l3_experts=l3_experts,
    )  # fmt: skip


@pytest.fixture
def cast(db: Any) -> Cast:
    return build_cast()


@pytest.fixture(autouse=True)
def _media_root(tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in English: a request by a Chinese-speaking user activates zh-hans
    for the thread (the middleware does), and it must not leak into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


_sla_defaults = importlib.import_module("erpcare.sla.migrations.0002_default_policies")


@pytest.fixture
def sla_defaults(db: Any) -> None:
    """The SLA migration's default calendars and policies. Data-migration rows are gone
    after any transactional test's flush, so tests that need them ask for this."""
    _sla_defaults.create_defaults(django_apps, None)


@pytest.fixture
def sla_defaults_tx(transactional_db: Any) -> None:
    _sla_defaults.create_defaults(django_apps, None)


DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "live_server"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ERPCARE_TEST_DB_ONLY=1 (the PostgreSQL pass of ``make test``), run only the
    tests that use ERPCare's database or a PostgreSQL server (marked ``pg_server``, skipped
    in the SQLite pass when no server is up): the others — parsers, engines, artifacts,
    runners — give the same result on any database and already ran in the SQLite pass."""
    if os.environ.get("ERPCARE_TEST_DB_ONLY") != "1":
        return
    keep: list[pytest.Item] = []
    skipped: list[pytest.Item] = []
    for item in items:
        uses_db = (
            item.get_closest_marker("django_db") is not None
            or item.get_closest_marker("pg_server") is not None
            or bool(DB_FIXTURES & set(getattr(item, "fixturenames", ())))
        )
        (keep if uses_db else skipped).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = keep
