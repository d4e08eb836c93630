"""A hand-computed November 2026 for two customers (Asia/Shanghai), made through the real
actions at pinned times, for the monthly report's tests.

Acme (VIP, 24×7):
- A1 P0 incident on Acme SAP PRD, 10 Nov 08:00; answered 08:10; resolved 10:00 (2 h, the
  only outage: 2 h of 720 h → 99.722 % available); module gl.
- A2 P2 request from the portal (alice), 12 Nov 09:00, module ap, data issue; answered
  09:05; resolved 15:00 as "data corrected" with the root cause (6 h).
- A3 P3 question from the portal, 20 Nov 10:00, still open at the month's end (backlog 1).
- A0 October: P2 request 15 Oct 10:00, answered 10:05, resolved 12:00 (2 h).
Globex (standard) — must never show in Acme's report:
- G1 P1, G2 P2 incidents, G3 P3 question in November with titles containing "GLOBEX-SECRET".

Acme's November by hand: 3 created (1 incident, 1 request, 1 question; P0 1, P2 1, P3 1;
portal 2, web 1), 2 resolved; MTTR 2 h; median resolution time (2 h, 6 h) = 4 h; top
tickets A2 (6 h) then A1 (2 h); response and resolution SLA 2 of 2 met (October 1 of 1);
backlog 1 (P3); knowledge added: the public article and Acme's own, not Globex's, not the
internal one, not October's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.kb import services as kb
from erpcare.kb.models import Article
from erpcare.reports.periods import Period
from erpcare.tickets.models import Channel, Status, Ticket, TicketType
from erpcare.tickets.services import add_comment, create_ticket, transition_ticket

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period.month(2026, 11, "Asia/Shanghai")
AFTER = datetime(2026, 12, 1, 12, 0, tzinfo=SH)  # "now" in the tests: November is over
SECRET = "GLOBEX-SECRET"
ROOT_CAUSE = "根因：凭证模板缺少税码，已补齐模板并重过账"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def reply(actor, ticket: Ticket, when: datetime) -> None:
    with clock.frozen_at(when):
        add_comment(actor, ticket, body="已处理，请确认")


def resolve(actor, ticket: Ticket, when: datetime, code: str = "fixed", text: str = "ok") -> None:
    with clock.frozen_at(when):
        transition_ticket(
            actor,
            Ticket.objects.get(pk=ticket.pk),
            to=Status.RESOLVED,
            resolution_code=code,
            resolution=text,
        )


@dataclass
class Month:
    tickets: dict[str, Ticket]
    articles: dict[str, Article]


def build_month(cast: Cast) -> Month:
    t: dict[str, Ticket] = {}
    with clock.frozen_at(at(2026, 10, 15, 10, 0)):
        t["A0"] = create_ticket(
            cast.alice, title="十月的凭证问题", type=TicketType.REQUEST, impact=2, urgency=2
        )
    reply(cast.lina, t["A0"], at(2026, 10, 15, 10, 5))
    resolve(cast.lina, t["A0"], at(2026, 10, 15, 12, 0))

    with clock.frozen_at(at(2026, 11, 10, 8, 0)):
        t["A1"] = create_ticket(
            cast.lina, title="SAP PRD 宕机", organization=cast.acme, erp_instance=cast.acme_erp,
            type=TicketType.INCIDENT, channel=Channel.WEB, priority=0, module="gl",
        )  # fmt: skip
    reply(cast.lina, t["A1"], at(2026, 11, 10, 8, 10))
    resolve(cast.lina, t["A1"], at(2026, 11, 10, 10, 0), "configuration", "内核参数已调整")

    with clock.frozen_at(at(2026, 11, 12, 9, 0)):
        t["A2"] = create_ticket(
            cast.alice, title="应付发票无法过账", type=TicketType.REQUEST, impact=2, urgency=2,
            module="ap", category="data_issue",
        )  # fmt: skip
    reply(cast.lina, t["A2"], at(2026, 11, 12, 9, 5))
    resolve(cast.lina, t["A2"], at(2026, 11, 12, 15, 0), "data_corrected", ROOT_CAUSE)

    with clock.frozen_at(at(2026, 11, 20, 10, 0)):
        t["A3"] = create_ticket(
            cast.alice, title="报表导出慢", type=TicketType.QUESTION, impact=3, urgency=3
        )

    for key, priority, ticket_type, day in (
        ("G1", 1, TicketType.INCIDENT, 3),
        ("G2", 2, TicketType.INCIDENT, 4),
        ("G3", 3, TicketType.QUESTION, 5),
    ):
        with clock.frozen_at(at(2026, 11, day, 9, 0)):
            t[key] = create_ticket(
                cast.lina, title=f"{SECRET} {key} Odoo stock valuation", organization=cast.globex,
                requester=cast.bob, erp_instance=cast.globex_erp, type=ticket_type,
                channel=Channel.EMAIL, priority=priority, module="inventory",
            )  # fmt: skip
    resolve(cast.lina, t["G1"], at(2026, 11, 25, 9, 0), "fixed", f"{SECRET} root cause")

    articles: dict[str, Article] = {}
    for key, when, extra in (
        ("public", at(2026, 11, 3, 9, 0), {"visibility": "public"}),
        ("acme", at(2026, 11, 18, 9, 0), {"visibility": "customer", "organization": cast.acme}),
        (
            "globex",
            at(2026, 11, 18, 10, 0),
            {"visibility": "customer", "organization": cast.globex},
        ),
        ("internal", at(2026, 11, 19, 9, 0), {"visibility": "internal"}),
        ("october", at(2026, 10, 20, 9, 0), {"visibility": "public"}),
    ):
        title = f"{SECRET} article" if key == "globex" else f"KB {key}: 如何补齐税码"
        with clock.frozen_at(when):
            article = kb.create_article(cast.lina, title=title, body="步骤……", **extra)
            articles[key] = kb.publish(cast.mona, article)
    return Month(
        tickets={k: Ticket.objects.get(pk=v.pk) for k, v in t.items()},
        articles=articles,
    )
