"""Who sees which tickets and customers.

A customer user sees only their own organization; another organization's ticket does
not exist for them (404, never 403, so numbers cannot be probed). Agents see the
customers their teams serve; managers, admins and auditors see everything, and the
auditor changes nothing.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, reverse

from erpcare.audit.models import AuditEntry
from erpcare.conftest import PASSWORD
from erpcare.core.errors import NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import Attachment, Comment, Ticket, TicketEvent, TicketLink

pytestmark = pytest.mark.django_db


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def db_state():
    return [
        list(model.objects.order_by("pk").values())
        for model in (Ticket, Comment, Attachment, TicketEvent, TicketLink)
    ] + [AuditEntry.objects.exclude(action__in=["token.created", "auth.sign_in"]).count()]


@pytest.fixture
def world(cast):
    """An Acme ticket and a Globex ticket, each with a public reply, an internal note,
    a public and an internal file."""

    def ticket_of(customer, title):
        ticket = services.create_ticket(customer, title=title)
        services.add_comment(cast.lina, ticket, body=f"public reply on {title}")
        services.add_comment(cast.lina, ticket, body=f"INTERNAL note on {title}", internal=True)
        for internal in (False, True):
            services.add_attachment(
                cast.lina,
                ticket,
                SimpleUploadedFile(
                    f"{'internal' if internal else 'public'}.txt", b"x", "text/plain"
                ),
                internal=internal,
            )
        return ticket

    return {
        "acme": ticket_of(cast.alice, "Acme ledger"),
        "globex": ticket_of(cast.bob, "Globex POS"),
    }


# --- customers across organizations, through the API ----------------------------------

READS = ["", "/comments", "/events", "/attachments"]


def test_customer_lists_only_own_organizations_tickets(cast, world):
    items = client_for(cast, cast.alice).get("/api/v1/tickets").json()["items"]
    assert [t["number"] for t in items] == [world["acme"].number]
    items = client_for(cast, cast.bob).get("/api/v1/tickets?status=new,open").json()["items"]
    assert [t["number"] for t in items] == [world["globex"].number]


def test_colleague_at_the_same_customer_sees_the_ticket(cast, world):
    response = client_for(cast, cast.alice2).get(f"/api/v1/tickets/{world['acme'].number}")
    assert response.status_code == 200


@pytest.mark.parametrize("suffix", READS)
@pytest.mark.parametrize("by", ["number", "id", "lowercase number"])
def test_customer_cannot_read_other_customers_ticket(cast, world, suffix, by):
    ticket = world["globex"]
    ref = {"number": ticket.number, "id": ticket.pk, "lowercase number": ticket.number.lower()}[by]
    response = client_for(cast, cast.alice).get(f"/api/v1/tickets/{ref}{suffix}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Ticket not found."}


def test_other_customers_ticket_looks_exactly_like_a_missing_one(cast, world):
    client = client_for(cast, cast.alice)
    existing = client.get(f"/api/v1/tickets/{world['globex'].number}")
    missing = client.get("/api/v1/tickets/INC-2026-999999")
    assert (existing.status_code, existing.content) == (missing.status_code, missing.content)


def test_customer_cannot_download_other_customers_file(cast, world):
    attachment = Attachment.objects.filter(ticket=world["globex"], is_internal=False).first()
    client = client_for(cast, cast.alice)
    for ref in (world["globex"].number, world["acme"].number):
        response = client.get(f"/api/v1/tickets/{ref}/attachments/{attachment.pk}/download")
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("comments", {"body": "hello from Acme"}),
        ("transition", {"to": "closed"}),
        ("assign", {"assignee": "me"}),
        ("escalate", {"tier": 2, "reason": "x"}),
        ("links", {"target": "ACME", "kind": "related_to"}),
        ("merge", {"into": "ACME"}),
    ],
)
def test_customer_cannot_write_to_other_customers_ticket(cast, world, action, data):
    data = {k: world["acme"].number if v == "ACME" else v for k, v in data.items()}
    client = client_for(cast, cast.alice)
    before = db_state()
    response = client.post(
        f"/api/v1/tickets/{world['globex'].number}/{action}", data, content_type="application/json"
    )
    assert response.status_code == 404
    assert db_state() == before


def test_customer_cannot_attach_to_other_customers_ticket(cast, world):
    client = client_for(cast, cast.alice)
    before = db_state()
    response = client.post(
        f"/api/v1/tickets/{world['globex'].number}/attachments",
        {"file": SimpleUploadedFile("x.txt", b"x", "text/plain")},
    )
    assert response.status_code == 404
    assert db_state() == before


def test_staff_cannot_link_or_merge_into_a_ticket_they_cannot_see(cast, world):
    client = client_for(cast, cast.vera)
    acme, globex = world["acme"].number, world["globex"].number
    before = db_state()
    link = client.post(
        f"/api/v1/tickets/{acme}/links",
        {"target": globex, "kind": "related_to"},
        content_type="application/json",
    )
    merge = client.post(
        f"/api/v1/tickets/{acme}/merge", {"into": globex}, content_type="application/json"
    )
    assert (link.status_code, merge.status_code) == (404, 404)
    assert db_state() == before


def test_customer_cannot_open_a_ticket_for_another_customer(cast, world):
    before = db_state()
    response = client_for(cast, cast.alice).post(
        "/api/v1/tickets", {"title": "x", "customer": "globex"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert db_state() == before


# --- internal material is for staff only ---------------------------------------------


def test_customer_never_sees_internal_notes_events_or_files(cast, world):
    client = client_for(cast, cast.alice)
    ref = world["acme"].number
    comments = client.get(f"/api/v1/tickets/{ref}/comments").json()["items"]
    events = client.get(f"/api/v1/tickets/{ref}/events").json()
    files = client.get(f"/api/v1/tickets/{ref}/attachments").json()
    assert [c["body"] for c in comments] == ["public reply on Acme ledger"]
    assert all(not c["internal"] for c in comments)
    assert "INTERNAL" not in str(events)
    assert [e["new_value"] for e in events if e["kind"] == "attached"] == ["public.txt"]
    assert [f["filename"] for f in files] == ["public.txt"]
    internal = Attachment.objects.get(ticket=world["acme"], is_internal=True)
    assert (
        client.get(f"/api/v1/tickets/{ref}/attachments/{internal.pk}/download").status_code == 404
    )


def test_staff_see_internal_notes_and_files(cast, world):
    client = client_for(cast, cast.lina)
    ref = world["acme"].number
    comments = client.get(f"/api/v1/tickets/{ref}/comments").json()["items"]
    files = client.get(f"/api/v1/tickets/{ref}/attachments").json()
    assert [c["internal"] for c in comments] == [False, True]
    assert sorted(f["filename"] for f in files) == ["internal.txt", "public.txt"]


# --- agents see the customers their teams serve --------------------------------------


def test_agent_serving_only_acme_cannot_see_globex(cast, world):
    client = client_for(cast, cast.vera)
    items = client.get("/api/v1/tickets").json()["items"]
    assert [t["number"] for t in items] == [world["acme"].number]
    assert client.get(f"/api/v1/tickets/{world['globex'].number}").status_code == 404


def test_agent_serving_everyone_sees_both(cast, world):
    items = client_for(cast, cast.lina).get("/api/v1/tickets").json()["items"]
    assert {t["number"] for t in items} == {world["acme"].number, world["globex"].number}


def test_agent_sees_a_ticket_assigned_to_them_outside_their_customers(cast, world):
    services.assign_ticket(cast.mona, world["globex"], assignee=cast.lina)
    Ticket.objects.filter(pk=world["globex"].pk).update(assignee=cast.vera)
    response = client_for(cast, cast.vera).get(f"/api/v1/tickets/{world['globex'].number}")
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["mona", "adam", "audra"])
def test_managers_admins_and_auditors_see_everything(cast, world, who):
    client = client_for(cast, getattr(cast, who))
    items = client.get("/api/v1/tickets").json()["items"]
    assert {t["number"] for t in items} == {world["acme"].number, world["globex"].number}
    comments = client.get(f"/api/v1/tickets/{world['globex'].number}/comments").json()["items"]
    assert len(comments) == 2


# --- the auditor reads everything and writes nothing ---------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("post", "", {"title": "audit", "customer": "acme"}),
        ("patch", "/{ref}", {"title": "audited"}),
        ("post", "/{ref}/comments", {"body": "noted"}),
        ("post", "/{ref}/assign", {"assignee": "me"}),
        ("post", "/{ref}/transition", {"to": "open"}),
        ("post", "/{ref}/escalate", {"tier": 2, "reason": "audit"}),
        ("post", "/{ref}/links", {"target": "{other}", "kind": "related_to"}),
        ("post", "/{ref}/merge", {"into": "{other}"}),
    ],
)
def test_auditor_cannot_write_anything(cast, world, method, path, data):
    other = services.create_ticket(cast.alice, title="other")
    ref = world["acme"].number
    data = {k: (v.format(other=other.number) if isinstance(v, str) else v) for k, v in data.items()}
    client = client_for(cast, cast.audra)
    before = db_state()
    response = getattr(client, method)(
        f"/api/v1/tickets{path.format(ref=ref)}", data, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role is read-only."
    assert db_state() == before


def test_auditor_cannot_upload_files(cast, world):
    client = client_for(cast, cast.audra)
    before = db_state()
    response = client.post(
        f"/api/v1/tickets/{world['acme'].number}/attachments",
        {"file": SimpleUploadedFile("x.txt", b"x", "text/plain")},
    )
    assert response.status_code == 403
    assert db_state() == before


def test_auditor_is_read_only_in_every_service_action(cast, world):
    ticket, other = world["acme"], world["globex"]
    actions = [
        lambda: services.create_ticket(cast.audra, title="x", organization=cast.acme),
        lambda: services.update_ticket(cast.audra, ticket, title="x"),
        lambda: services.add_comment(cast.audra, ticket, body="x"),
        lambda: services.add_attachment(
            cast.audra, ticket, SimpleUploadedFile("a.txt", b"a", "text/plain")
        ),
        lambda: services.assign_ticket(cast.audra, ticket, assignee=cast.lina),
        lambda: services.escalate_ticket(cast.audra, ticket, tier=2, reason="x"),
        lambda: services.transition_ticket(cast.audra, ticket, to="open"),
        lambda: services.reopen_ticket(cast.audra, ticket, reason="x"),
        lambda: services.link_tickets(cast.audra, ticket, other, kind="related_to"),
        lambda: services.merge_tickets(cast.audra, ticket, other),
    ]
    before = db_state()
    for action in actions:
        with pytest.raises(NotAllowed, match="read-only"):
            action()
    assert db_state() == before


# --- the same rules in the service layer ---------------------------------------------


def test_get_ticket_for_hides_other_customers_tickets(cast, world):
    globex = world["globex"]
    for ref in (globex.number, globex.pk, str(globex.pk)):
        with pytest.raises(NotFound, match="Ticket not found"):
            services.get_ticket_for(cast.alice, ref)
        with pytest.raises(NotFound):
            services.get_ticket_for(cast.vera, ref)
    assert services.get_ticket_for(cast.bob, globex.number) == globex
    assert services.get_ticket_for(cast.lina, globex.number) == globex


def test_visible_tickets_per_role(cast, world):
    acme, globex = world["acme"], world["globex"]
    expected = {
        "alice": {acme}, "alice2": {acme}, "bob": {globex},
        "lina": {acme, globex}, "vera": {acme}, "eric": {acme, globex}, "xu": {acme, globex},
        "mona": {acme, globex}, "adam": {acme, globex}, "audra": {acme, globex},
    }  # fmt: skip
    for name, tickets in expected.items():
        assert set(services.visible_tickets(getattr(cast, name))) == tickets, name


def test_inactive_users_see_nothing(cast, world):
    cast.lina.is_active = False
    cast.lina.save()
    assert not services.visible_tickets(cast.lina).exists()


@pytest.mark.parametrize(
    "action",
    [
        lambda c, t, o: services.add_comment(c.alice, t, body="x"),
        lambda c, t, o: services.add_attachment(
            c.alice, t, SimpleUploadedFile("a.txt", b"a", "text/plain")
        ),
        lambda c, t, o: services.transition_ticket(c.alice, t, to="closed"),
        lambda c, t, o: services.reopen_ticket(c.alice, t, reason="x"),
        lambda c, t, o: services.update_ticket(c.vera, t, title="x"),
        lambda c, t, o: services.assign_ticket(c.vera, t, assignee=c.vera),
        lambda c, t, o: services.escalate_ticket(c.vera, t, tier=2, reason="x"),
        lambda c, t, o: services.link_tickets(c.vera, o, t, kind="related_to"),
        lambda c, t, o: services.merge_tickets(c.vera, o, t),
    ],
)
def test_actions_refuse_tickets_out_of_the_actors_scope_as_not_found(cast, world, action):
    before = db_state()
    with pytest.raises(NotFound, match="Ticket not found"):
        action(cast, world["globex"], world["acme"])
    assert db_state() == before


# --- customers and ERP instances ------------------------------------------------------


def test_customer_sees_only_own_organization_and_instances(cast, world):
    client = client_for(cast, cast.alice)
    assert [c["code"] for c in client.get("/api/v1/customers").json()["items"]] == ["acme"]
    assert client.get("/api/v1/customers/globex").status_code == 404
    instances = client.get("/api/v1/erp-instances").json()["items"]
    assert [i["id"] for i in instances] == [cast.acme_erp.pk]
    assert client.get("/api/v1/erp-instances?customer=globex").json()["items"] == []
    assert client.get(f"/api/v1/erp-instances/{cast.globex_erp.pk}").status_code == 404


def test_agent_sees_the_customers_their_teams_serve(cast, world):
    vera = client_for(cast, cast.vera)
    lina = client_for(cast, cast.lina)
    assert [c["code"] for c in vera.get("/api/v1/customers").json()["items"]] == ["acme"]
    assert vera.get(f"/api/v1/erp-instances/{cast.globex_erp.pk}").status_code == 404
    assert sorted(c["code"] for c in lina.get("/api/v1/customers").json()["items"]) == [
        "acme",
        "globex",
    ]
    assert lina.get(f"/api/v1/erp-instances/{cast.globex_erp.pk}").status_code == 200


# --- the web pages, when they exist ----------------------------------------------------


@pytest.fixture
def pages(settings):
    """Render pages without a collected static manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _url(name, **kwargs):
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        pytest.skip(f"the {name} page does not exist yet")


def test_customer_portal_page_of_another_customers_ticket_is_404(cast, world, pages):
    url = _url("portal:ticket", number=world["globex"].number)
    client = Client()
    assert client.login(username=cast.alice.email, password=PASSWORD)
    assert client.get(url).status_code == 404
    own = _url("portal:ticket", number=world["acme"].number)
    page = client.get(own)
    assert page.status_code == 200
    assert b"INTERNAL" not in page.content
    assert b"internal.txt" not in page.content


def test_desk_page_of_a_ticket_outside_the_agents_customers_is_404(cast, world, pages):
    url = _url("desk:ticket", number=world["globex"].number)
    client = Client()
    assert client.login(username=cast.vera.email, password=PASSWORD)
    assert client.get(url).status_code == 404
