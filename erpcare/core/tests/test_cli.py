"""The erpcare command line."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from erpcare.accounts.models import User


def test_python_dash_m_erpcare_prints_help():
    out = subprocess.run(
        [sys.executable, "-m", "erpcare", "--help"], capture_output=True, text=True, check=True
    )
    assert "erpcare serve" in out.stdout
    assert "erpcare worker" in out.stdout


@pytest.mark.django_db
def test_createadmin_creates_an_administrator_from_the_environment(monkeypatch):
    monkeypatch.setenv("ERPCARE_ADMIN_PASSWORD", "a long pass phrase 7")
    call_command("createadmin", email="Root@Example.com", name="Root")
    user = User.objects.get(email="root@example.com")
    assert user.role.code == "admin"
    assert user.check_password("a long pass phrase 7")


@pytest.mark.django_db
def test_createadmin_refuses_weak_passwords_and_existing_users(monkeypatch):
    monkeypatch.setenv("ERPCARE_ADMIN_PASSWORD", "123")
    with pytest.raises(CommandError, match="too short"):
        call_command("createadmin", email="root@example.com")
    assert not User.objects.exists()
    monkeypatch.setenv("ERPCARE_ADMIN_PASSWORD", "a long pass phrase 7")
    call_command("createadmin", email="root@example.com")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createadmin", email="root@example.com")


def test_assets_names_what_is_missing(tmp_path):
    with pytest.raises(CommandError, match="run `npm ci`"):
        call_command("assets", node_modules=str(tmp_path))


@pytest.mark.django_db
def test_health_reports_the_database_and_a_worker_never_seen(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "worker": {"state": "never_seen"}}
