"""The risk questionnaire and the likelihood × impact matrix (ITIL-style, 3 × 3).

Each answer scores 1–3 on likelihood or impact; the highest answer of each axis is the
axis's score (one bad answer is enough to make a change risky), and the matrix below turns
the pair into low / medium / high.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erpcare.changes.models import Risk
from erpcare.core.errors import ActionError

LIKELIHOOD = "likelihood"
IMPACT = "impact"


@dataclass(frozen=True)
class Question:
    code: str
    axis: str
    text: str | Promise
    #: answer code → (score 1–3, label)
    answers: dict[str, tuple[int, str | Promise]]


QUESTIONS: tuple[Question, ...] = (
    Question(
        "tested",
        LIKELIHOOD,
        gettext_lazy("Was the change run in a test environment?"),
        {
            "yes": (1, gettext_lazy("Yes, with the same data volume")),
            "partly": (2, gettext_lazy("Partly")),
            "no": (3, gettext_lazy("No")),
        },
    ),
    Question(
        "done_before",
        LIKELIHOOD,
        gettext_lazy("Has this kind of change been done before on this product?"),
        {
            "often": (1, gettext_lazy("Often")),
            "once": (2, gettext_lazy("Once or twice")),
            "never": (3, gettext_lazy("Never")),
        },
    ),
    Question(
        "complexity",
        LIKELIHOOD,
        gettext_lazy("How complex is the change?"),
        {
            "simple": (1, gettext_lazy("A setting or a single patch")),
            "moderate": (2, gettext_lazy("Several steps or components")),
            "complex": (3, gettext_lazy("Data migration, upgrade or many components")),
        },
    ),
    Question(
        "users",
        IMPACT,
        gettext_lazy("Who is affected if it goes wrong?"),
        {
            "few": (1, gettext_lazy("A few users")),
            "department": (2, gettext_lazy("A department")),
            "company": (3, gettext_lazy("The whole company")),
        },
    ),
    Question(
        "downtime",
        IMPACT,
        gettext_lazy("How much downtime is expected?"),
        {
            "none": (1, gettext_lazy("None")),
            "short": (2, gettext_lazy("Under an hour")),
            "long": (3, gettext_lazy("An hour or more")),
        },
    ),
    Question(
        "financial",
        IMPACT,
        gettext_lazy("Does it touch postings, closing or financial reports?"),
        {
            "no": (1, gettext_lazy("No")),
            "yes": (3, gettext_lazy("Yes")),
        },
    ),
)

#: (likelihood, impact) → risk.
MATRIX: dict[tuple[int, int], str] = {
    (1, 1): Risk.LOW,
    (1, 2): Risk.LOW,
    (2, 1): Risk.LOW,
    (1, 3): Risk.MEDIUM,
    (2, 2): Risk.MEDIUM,
    (3, 1): Risk.MEDIUM,
    (2, 3): Risk.HIGH,
    (3, 2): Risk.HIGH,
    (3, 3): Risk.HIGH,
}


@dataclass(frozen=True)
class Assessment:
    answers: dict[str, str]
    likelihood: int
    impact: int
    risk: str


def assess(answers: Any) -> Assessment:
    """Score a complete set of answers; every question must be answered with one of its
    answer codes, and nothing else may be given."""
    if not isinstance(answers, dict):
        raise ActionError(_("The risk answers must be a mapping of question to answer."))
    known = {q.code: q for q in QUESTIONS}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise ActionError(
            _("Unknown risk question: %(codes)s.") % {"codes": ", ".join(map(str, unknown))}
        )
    scores: dict[str, int] = {LIKELIHOOD: 1, IMPACT: 1}
    clean: dict[str, str] = {}
    for question in QUESTIONS:
        answer = answers.get(question.code)
        if answer in (None, ""):
            raise ActionError(
                _("Answer the risk question “%(question)s”.") % {"question": question.text}
            )
        if answer not in question.answers:
            raise ActionError(
                _("“%(answer)s” is not an answer to “%(question)s” (choose %(choices)s).")
                % {
                    "answer": answer,
                    "question": question.text,
                    "choices": ", ".join(question.answers),
                }
            )
        clean[question.code] = str(answer)
        scores[question.axis] = max(scores[question.axis], question.answers[answer][0])
    likelihood, impact = scores[LIKELIHOOD], scores[IMPACT]
    return Assessment(clean, likelihood, impact, MATRIX[(likelihood, impact)])
