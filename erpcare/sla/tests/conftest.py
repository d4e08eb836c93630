"""SLA fixtures: the default calendars and policies, even after a flushing test."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps

_defaults = importlib.import_module("erpcare.sla.migrations.0002_default_policies")


@pytest.fixture
def sla_defaults(db: Any) -> None:
    """The migration's defaults (a transactional test's flush removes data-migration rows)."""
    _defaults.create_defaults(django_apps, None)


@pytest.fixture
def sla_defaults_tx(transactional_db: Any) -> None:
    _defaults.create_defaults(django_apps, None)
