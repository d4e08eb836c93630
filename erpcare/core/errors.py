"""Errors that actions raise for a person to read. Views turn them into form errors,
the API into ``{"detail": ...}`` with the matching status code."""

from __future__ import annotations


class ActionError(Exception):
    """The input or the state does not allow the action; nothing was changed (HTTP 400)."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(ActionError):
    """The actor may see the object but may not do this to it (HTTP 403)."""

    status_code = 403


class NotFound(ActionError):
    """Does not exist, or the actor may not see it: the two are never told apart (HTTP 404)."""

    status_code = 404


class Conflict(ActionError):
    """The action conflicts with the current state (HTTP 409)."""

    status_code = 409
