"""Alertmanager-style label matchers: ``{"label": str, "op": "=" | "!=" | "=~" | "!~",
"value": str}``. Regexes are anchored (the whole value must match), as in Alertmanager;
a missing label counts as the empty string."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from erpcare.core.errors import ActionError

OPERATORS = ("=", "!=", "=~", "!~")
MAX_MATCHERS = 50


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _one(matcher: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    op = matcher.get("op", "=")
    value = str(matcher.get("value", ""))
    actual = str(labels.get(str(matcher.get("label", "")), ""))
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    if op in ("=~", "!~"):
        regex = _compiled(value)
        if regex is None:
            return False  # a broken rule never matches, whichever way it is negated
        found = regex.fullmatch(actual) is not None
        return found if op == "=~" else not found
    return False


def matches(matchers: list[dict[str, Any]], labels: Mapping[str, str]) -> bool:
    """True when every matcher matches (an empty list matches everything)."""
    return all(isinstance(m, Mapping) and _one(m, labels) for m in matchers or [])


def validate(matchers: Any) -> None:
    """Refuse what ``matches`` could not evaluate: raises ActionError with the reason."""
    if not isinstance(matchers, list):
        raise ActionError(_("Matchers must be a list."))
    if len(matchers) > MAX_MATCHERS:
        raise ActionError(_("At most %(n)d matchers.") % {"n": MAX_MATCHERS})
    for position, matcher in enumerate(matchers, start=1):
        if not isinstance(matcher, Mapping):
            raise ActionError(_("Matcher %(n)d is not an object.") % {"n": position})
        label = matcher.get("label")
        if not isinstance(label, str) or not label.strip():
            raise ActionError(_("Matcher %(n)d needs a label name.") % {"n": position})
        op = matcher.get("op", "=")
        if op not in OPERATORS:
            raise ActionError(
                _("Matcher %(n)d: unknown operator %(op)s (use =, !=, =~ or !~).")
                % {"n": position, "op": op}
            )
        value = matcher.get("value", "")
        if not isinstance(value, str):
            raise ActionError(_("Matcher %(n)d: the value must be text.") % {"n": position})
        if op in ("=~", "!~") and _compiled(value) is None:
            raise ActionError(
                _("Matcher %(n)d: %(value)s is not a valid regular expression.")
                % {"n": position, "value": value}
            )
