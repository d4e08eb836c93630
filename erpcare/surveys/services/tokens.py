"""Signed survey links: the invitation, the score chosen in the mail and the channel.

A link is ``django.core.signing`` over ``{"i": invitation id, "k": kind, "s": score or
None, "c": "m" (mail) or "p" (portal)}`` with a salt of our own, so a token signed for
anything else in ERPCare (or edited by hand) does not verify. The link itself carries no
expiry: the invitation's ``expires_at`` (``ERPCARE_SURVEY_LINK_DAYS`` after it was sent)
decides, and ``answered_at`` makes it single-use.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotFound
from erpcare.surveys.models import SCORE_RANGE, AnswerChannel, Invitation, SurveyKind

SALT = "erpcare.surveys.link.v1"
_CHANNELS: dict[str, str] = {"m": AnswerChannel.MAIL.value, "p": AnswerChannel.PORTAL.value}
_CHANNEL_CODES: dict[str, str] = {value: key for key, value in _CHANNELS.items()}


class Expired(ActionError):
    """The invitation's time ran out (HTTP 410)."""

    status_code = 410


@dataclass(frozen=True)
class Link:
    invitation: Invitation
    score: int | None
    channel: str


def make_token(invitation: Invitation, score: int | None, channel: str = AnswerChannel.MAIL) -> str:
    if score is not None:
        check_score(invitation.kind, score)
    code = _CHANNEL_CODES[str(channel)]
    payload = {"i": invitation.pk, "k": invitation.kind, "s": score, "c": code}
    return signing.dumps(payload, salt=SALT, compress=False)


def link_url(invitation: Invitation, score: int | None, channel: str = AnswerChannel.MAIL) -> str:
    token = make_token(invitation, score, channel)
    return settings.SITE_URL + reverse("surveys:answer", args=[token])


def check_score(kind: str, score: int) -> int:
    low, high = SCORE_RANGE[kind]
    if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
        raise ActionError(
            _("The score must be a whole number from %(low)d to %(high)d.")
            % {"low": low, "high": high}
        )
    return score


def read_token(token: str, *, for_answer: bool = True) -> Link:
    """The link behind ``token``, or an ActionError saying why it is refused: forged or
    damaged (400), an unknown invitation (404), expired (410), already answered (409).

    ``for_answer=False`` skips the "already answered" check (the reopen offer that follows
    a low rating uses the same link once it has been answered)."""
    bad = ActionError(_("This survey link is not valid. Please use the link from your e-mail."))
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise bad from None
    if not isinstance(payload, dict) or set(payload) != {"i", "k", "s", "c"}:
        raise bad
    invitation_id, kind, score, channel = payload["i"], payload["k"], payload["s"], payload["c"]
    if not isinstance(invitation_id, int) or kind not in SurveyKind.values:
        raise bad
    if channel not in _CHANNELS:
        raise bad
    invitation = (
        Invitation.objects.select_related("ticket", "user", "organization")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise NotFound(_("This survey no longer exists."))
    if invitation.kind != kind:
        raise bad
    if score is not None:
        check_score(kind, score)
    if for_answer and invitation.answered_at is not None:
        raise Conflict(_("This survey has already been answered. Thank you!"))
    if clock.now() >= invitation.expires_at:
        raise Expired(_("This survey link has expired."))
    return Link(invitation=invitation, score=score, channel=_CHANNELS[channel])
