"""The responses API and the desk page: scoped like tickets (customers never see another
organization's answers), filters, bad input, low ratings highlighted; and the rating
buttons on the portal's ticket page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erpcare.surveys.models import Invitation, Response, SurveyKind
from erpcare.surveys.services import answer, invite_nps, read_token
from erpcare.surveys.services.tokens import make_token
from erpcare.surveys.tests.conftest import api, new_ticket, signed_in

pytestmark = pytest.mark.django_db


def respond(invitation: Invitation, score: int, comment: str = "") -> Response:
    return answer(read_token(make_token(invitation, score)), score, comment)


@pytest.fixture
def answers(cast: Any, resolve: Any) -> dict[str, Response]:
    """Acme: CSAT 2 (ticket in l1-desk), NPS 9 from ann; Globex: CSAT 5 (ticket in
    l1-desk), NPS 3 from bob."""
    acme_ticket = resolve(cast, new_ticket(cast))
    globex_ticket = resolve(
        cast, new_ticket(cast, title="POS 同步失败", requester=cast.bob, organization=cast.globex)
    )
    invite_nps()
    nps = {i.user.email: i for i in Invitation.objects.filter(kind=SurveyKind.NPS)}
    return {
        "acme_csat": respond(Invitation.objects.get(ticket=acme_ticket), 2, "slow"),
        "globex_csat": respond(Invitation.objects.get(ticket=globex_ticket), 5, "great"),
        "acme_nps": respond(nps["ann@acme.example"], 9),
        "globex_nps": respond(nps["bob@globex.example"], 3, "globex secret"),
    }


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


class TestApi:
    def test_customers_see_only_their_organizations_answers(
        self, cast: Any, answers: dict[str, Response]
    ) -> None:
        mine = {answers["acme_csat"].pk, answers["acme_nps"].pk}
        assert ids(api(cast.alice).get("/api/v1/surveys/responses")) == mine
        assert ids(api(cast.alice2).get("/api/v1/surveys/responses")) == mine
        body = api(cast.bob).get("/api/v1/surveys/responses").content.decode()
        assert "slow" not in body
        assert ids(api(cast.bob).get("/api/v1/surveys/responses")) == {
            answers["globex_csat"].pk, answers["globex_nps"].pk
        }  # fmt: skip
        # Naming the other customer does not help: it is unknown to them.
        other = api(cast.alice).get("/api/v1/surveys/responses?customer=globex")
        assert other.status_code == 400
        assert "globex" in other.json()["detail"]

    def test_customers_summaries_count_only_their_own(
        self, cast: Any, answers: dict[str, Response]
    ) -> None:
        got = api(cast.alice).get(
            "/api/v1/surveys/summary?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z"
        )
        assert got.status_code == 200
        body = got.json()
        assert body["csat"]["responses"] == 1
        assert body["csat"]["mean"] == 2.0
        assert body["nps"]["responses"] == 1
        assert body["nps"]["score"] == 100.0

    def test_agents_see_answers_about_tickets_they_can_see(
        self, cast: Any, answers: dict[str, Response]
    ) -> None:
        everything = {r.pk for r in answers.values()}
        assert ids(api(cast.mona).get("/api/v1/surveys/responses")) == everything
        assert ids(api(cast.audra).get("/api/v1/surveys/responses")) == everything
        # lina's team serves everyone and holds both tickets.
        assert ids(api(cast.lina).get("/api/v1/surveys/responses")) == everything
        # vera's team serves only Acme: Acme's answers (its ticket's CSAT, its NPS), no Globex.
        assert ids(api(cast.vera).get("/api/v1/surveys/responses")) == {
            answers["acme_csat"].pk, answers["acme_nps"].pk
        }  # fmt: skip

    def test_filters(self, cast: Any, answers: dict[str, Response]) -> None:
        client = api(cast.mona)
        url = "/api/v1/surveys/responses"
        assert ids(client.get(f"{url}?kind=csat")) == {
            answers["acme_csat"].pk, answers["globex_csat"].pk
        }  # fmt: skip
        assert ids(client.get(f"{url}?low=true")) == {
            answers["acme_csat"].pk, answers["globex_nps"].pk
        }  # fmt: skip
        assert ids(client.get(f"{url}?customer=globex&kind=nps")) == {answers["globex_nps"].pk}
        assert ids(client.get(f"{url}?kind=csat&score=5")) == {answers["globex_csat"].pk}
        assert ids(client.get(f"{url}?end=2000-01-01T00:00:00Z")) == set()
        item = client.get(f"{url}?kind=csat&score=2").json()["items"][0]
        assert item["ticket"] == answers["acme_csat"].ticket.number
        assert item["low"] is True
        assert item["customer"] == "acme"
        assert item["comment"] == "slow"

    @pytest.mark.parametrize(
        ("query", "status", "text"),
        [
            ("kind=csat&score=7", 400, "from 1 to 5"),
            ("score=11", 422, "score"),
            ("kind=poll", 422, "kind"),
            ("customer=nobody", 400, "nobody"),
            ("start=2026-11-01T00:00:00", 400, "time zone"),
            ("start=2026-12-01T00:00:00Z&end=2026-11-01T00:00:00Z", 400, "after the start"),
            ("page=0", 422, "page"),
        ],
    )
    def test_bad_input_is_named(
        self, cast: Any, answers: dict[str, Response], query: str, status: int, text: str
    ) -> None:
        got = api(cast.mona).get(f"/api/v1/surveys/responses?{query}")
        assert got.status_code == status
        assert text in got.json()["detail"]

    def test_the_summary_needs_a_period(self, cast: Any) -> None:
        assert api(cast.mona).get("/api/v1/surveys/summary").status_code == 422

    def test_anonymous_callers_are_refused(self) -> None:
        assert Client().get("/api/v1/surveys/responses").status_code == 401


class TestDeskPage:
    def test_managers_see_responses_with_low_ratings_highlighted(
        self, cast: Any, answers: dict[str, Response]
    ) -> None:
        page = signed_in(cast.mona).get("/desk/surveys/")
        assert page.status_code == 200
        body = page.content.decode()
        assert body.count('data-testid="survey-row"') == 4
        assert body.count('data-low="1"') == 2
        number = answers["acme_csat"].ticket.number
        assert f'href="/desk/tickets/{number}/" data-testid="survey-ticket"' in body
        assert 'data-testid="csat-mean">3.50<' in body

    def test_filters_and_bad_filters(self, cast: Any, answers: dict[str, Response]) -> None:
        client = signed_in(cast.mona)
        body = client.get("/desk/surveys/?customer=globex&kind=nps").content.decode()
        assert body.count('data-testid="survey-row"') == 1
        assert "globex secret" in body
        bad = client.get("/desk/surveys/?kind=csat&score=9")
        assert bad.status_code == 400
        assert 'data-testid="field-error-score"' in bad.content.decode()
        assert 'data-testid="survey-row"' not in bad.content.decode()
        backwards = client.get("/desk/surveys/?start=2026-12-01&end=2026-11-01")
        assert backwards.status_code == 400
        assert 'data-testid="field-error-end"' in backwards.content.decode()

    def test_the_htmx_request_gets_the_table_only(
        self, cast: Any, answers: dict[str, Response]
    ) -> None:
        got = signed_in(cast.mona).get("/desk/surveys/?low=on", HTTP_HX_REQUEST="true")
        body = got.content.decode()
        assert "<html" not in body
        assert body.count('data-testid="survey-row"') == 2

    def test_agents_see_their_scope_and_customers_get_404(
        self, cast: Any, answers: dict[str, Response]
    ) -> None:
        body = signed_in(cast.vera).get("/desk/surveys/").content.decode()
        assert body.count('data-testid="survey-row"') == 2
        assert "globex secret" not in body
        assert signed_in(cast.alice).get("/desk/surveys/").status_code == 404
        assert Client().get("/desk/surveys/").status_code == 302


class TestPortalPrompt:
    def test_the_requester_sees_the_buttons_while_the_invitation_is_open(
        self, cast: Any, invited: Invitation
    ) -> None:
        number = invited.ticket.number
        page = signed_in(cast.alice).get(f"/portal/tickets/{number}/")
        body = page.content.decode()
        assert page.status_code == 200
        assert body.count('data-testid="survey-prompt-') == 5
        # A colleague of the same customer sees the ticket but not the buttons.
        colleague = signed_in(cast.alice2).get(page.wsgi_request.path)
        assert colleague.status_code == 200
        assert number in colleague.content.decode()
        assert 'data-testid="survey-prompt"' not in colleague.content.decode()
        # The portal button opens the answer page; its answer is recorded as "portal".
        client = signed_in(cast.alice)
        start = body.index('data-testid="survey-prompt-3"')
        href = body[:start].rsplit('href="', 1)[1].split('"', 1)[0]
        path = "/" + href.split("://", 1)[1].split("/", 1)[1]
        assert client.post(path, {"score": "3"}).status_code == 200
        assert Response.objects.get().channel == "portal"
        after = client.get(page.wsgi_request.path).content.decode()
        assert 'data-testid="survey-prompt"' not in after


class TestQueryCounts:
    def test_the_list_costs_the_same_for_more_rows(
        self, cast: Any, answers: dict[str, Response], resolve: Any
    ) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client, desk = api(cast.lina), signed_in(cast.lina)

        def cost() -> tuple[int, int, int]:
            client.get("/api/v1/surveys/responses")  # warm the token cache
            with CaptureQueriesContext(connection) as listing:
                items = client.get("/api/v1/surveys/responses").json()["items"]
            with CaptureQueriesContext(connection) as page:
                assert desk.get("/desk/surveys/").status_code == 200
            return len(listing), len(page), len(items)

        before = cost()
        for n in range(3):
            ticket = resolve(cast, new_ticket(cast, title=f"more {n}", requester=cast.alice2))
            respond(Invitation.objects.get(ticket=ticket), 1 + n)
        after = cost()
        assert after[2] == before[2] + 3
        assert after[:2] == before[:2]
        assert before[0] <= 4
