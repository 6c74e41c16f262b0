"""Domain errors: few, each with a message an agent can act on.

Vendor adapters translate HTTP failures into these; the web layer turns them
into problem+json. `status` is the HTTP status Escalink answers with.
"""

from __future__ import annotations

from collections.abc import Sequence

from escalink.domain.draft import Problem


class EscalinkError(Exception):
    status: int = 500
    title: str = "Escalink error"

    def __init__(self, message: str, *, problems: Sequence[Problem] = (), vendor: str | None = None):
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)
        self.vendor = vendor


class DraftRejected(EscalinkError):
    """The draft breaks the policy; nothing was sent anywhere."""

    status = 422
    title = "The escalation is incomplete or invalid"


class NotFound(EscalinkError):
    """The ticket, issue or attachment does not exist (or is not visible to Escalink's account)."""

    status = 404
    title = "Not found"


class Conflict(EscalinkError):
    """The request conflicts with the current state (e.g. something already sent or in progress)."""

    status = 409
    title = "Conflicts with the current state"


class VendorAuthFailed(EscalinkError):
    """Credentials were refused: an admin must fix Escalink's settings."""

    status = 502
    title = "A connected system refused Escalink's credentials"


class VendorPermissionDenied(EscalinkError):
    """Escalink's account lacks a permission in Zendesk or Jira."""

    status = 502
    title = "Escalink's account is not allowed to do this"


class VendorRejected(EscalinkError):
    """The vendor refused the request's content (e.g. a Jira field is not on the screen)."""

    status = 502
    title = "A connected system refused the request"


class VendorUnavailable(EscalinkError):
    """Timeouts, 5xx or rate limits that outlasted the retries: safe to try again later."""

    status = 503
    title = "A connected system is unavailable"

    def __init__(self, message: str, *, retry_after: float | None = None, vendor: str | None = None):
        super().__init__(message, vendor=vendor)
        self.retry_after = retry_after


class TrackerMisconfigured(EscalinkError):
    """Jira lacks a field or option the policy needs: an admin must align them."""

    status = 502
    title = "Jira is not set up the way the escalation policy expects"
