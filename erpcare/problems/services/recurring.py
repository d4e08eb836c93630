"""Recurring incidents: problem candidates from incidents of the same ERP module with
similar titles.

Titles go through the search app's text analysis (``erpcare.search.analysis.index_terms``:
jieba words and their dictionary sub-words for Chinese, Snowball stems for English, stop
words dropped), so "采购订单保存超时" and "保存采购订单时报错超时", or "Purchase order save
fails" and "Saving purchase orders fails", share most of their terms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.search.analysis import index_terms
from erpcare.tickets.models import Ticket, TicketType

# Two titles are similar when the Dice coefficient of their term sets,
#     2·|A ∩ B| / (|A| + |B|),
# is at least SIMILARITY_THRESHOLD (0.58): a little more than half of each title's terms
# are shared. Measured on ERP titles (see tests/test_recurring.py):
#   采购订单保存超时 / 保存采购订单时报错超时                  0.83  similar
#   Purchase order save fails with timeout / Saving purchase orders times out   0.60  similar
#   采购订单保存超时 / 打印采购订单格式错误 (same object, other fault)   0.55  not similar
#   Purchase order save fails… / Purchase order approval missing            0.44  not similar
# Chinese compounds count three times (采购, 订单, 采购订单: the index keeps sub-words), so
# two titles naming only the same business object reach about 0.55; the threshold sits
# just above that. Dice rather than Jaccard because titles are short and one extra word
# costs Jaccard much more. Clusters are single-linkage (a ticket joins when it is similar to
# any member), so a cluster can drift along a chain of similar titles; the suggested title
# (the member most similar to the others) shows what it is mostly about. Chinese and English
# titles share no terms, so they form separate clusters.
SIMILARITY_THRESHOLD = 0.58
MAX_TICKETS = 5000  # incidents examined per call (the most recent first)
MAX_DAYS = 366


@dataclass
class Cluster:
    module: str
    tickets: list[Ticket]
    suggested_title: str
    terms: list[str] = field(default_factory=list)  # shared by at least half the members

    @property
    def size(self) -> int:
        return len(self.tickets)


def title_terms(title: str) -> frozenset[str]:
    return frozenset(index_terms(title))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two term sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


class _Sets:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)


def _clusters_of(module: str, tickets: list[Ticket], min_incidents: int) -> list[Cluster]:
    terms = [title_terms(ticket.title) for ticket in tickets]
    postings: dict[str, list[int]] = defaultdict(list)
    for index, term_set in enumerate(terms):
        for term in term_set:
            postings[term].append(index)
    sets = _Sets(len(tickets))
    for i, term_set in enumerate(terms):
        seen: set[int] = set()
        for term in term_set:
            for j in postings[term]:
                if j > i and j not in seen:
                    seen.add(j)
                    if similarity(term_set, terms[j]) >= SIMILARITY_THRESHOLD:
                        sets.union(i, j)
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(tickets)):
        groups[sets.find(index)].append(index)
    clusters = []
    for members in groups.values():
        if len(members) < min_incidents:
            continue
        best = max(
            members,
            key=lambda i: (sum(similarity(terms[i], terms[j]) for j in members if j != i), -i),
        )
        counts: dict[str, int] = defaultdict(int)
        for i in members:
            for term in terms[i]:
                counts[term] += 1
        shared = sorted(
            (term for term, count in counts.items() if count * 2 >= len(members)),
            key=lambda term: (-counts[term], term),
        )
        members_sorted = sorted(members, key=lambda i: (tickets[i].created_at, tickets[i].pk))
        clusters.append(
            Cluster(
                module=module,
                tickets=[tickets[i] for i in members_sorted],
                suggested_title=tickets[best].title,
                terms=shared,
            )
        )
    return clusters


def candidates(
    *,
    days: int = 30,
    min_incidents: int = 3,
    now: datetime | None = None,
    user: User | None = None,
) -> list[Cluster]:
    """Problem candidates: incident tickets created in the last ``days`` days that are not
    linked to a problem (nor merged into another ticket), with an ERP module, grouped by
    module and title similarity; clusters of at least ``min_incidents`` tickets, largest
    first. ``user`` limits the tickets to those that user may see."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise ActionError(_("days must be a whole number from 1 to %(n)d.") % {"n": MAX_DAYS})
    if (
        not isinstance(min_incidents, int)
        or isinstance(min_incidents, bool)
        or not 2 <= min_incidents <= 1000
    ):
        raise ActionError(_("min_incidents must be a whole number from 2 to 1000."))
    moment = now or clock.now()
    queryset = Ticket.objects.visible_to(user) if user is not None else Ticket.objects.all()
    rows = list(
        queryset.filter(
            type=TicketType.INCIDENT,
            created_at__gte=moment - timedelta(days=days),
            created_at__lte=moment,
            problem_link__isnull=True,
            merged_into__isnull=True,
        )
        .exclude(module="")
        .select_related("organization")
        .order_by("-created_at")[:MAX_TICKETS]
    )
    by_module: dict[str, list[Ticket]] = defaultdict(list)
    for ticket in rows:
        by_module[ticket.module].append(ticket)
    found: list[Cluster] = []
    for module, tickets in sorted(by_module.items()):
        found.extend(_clusters_of(module, tickets, min_incidents))
    found.sort(key=lambda cluster: (-cluster.size, cluster.module, cluster.tickets[0].pk))
    return found
