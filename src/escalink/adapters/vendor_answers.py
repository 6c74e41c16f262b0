"""What vendors answer: requested waits (Retry-After, X-RateLimit-Reset) and final errors.

Turns an unsuccessful answer into the domain error an agent can act on, with the
vendor's own field errors carried as Problems.
"""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from escalink.domain.draft import Problem
from escalink.domain.errors import (
    EscalinkError,
    NotFound,
    VendorAuthFailed,
    VendorPermissionDenied,
    VendorRejected,
    VendorUnavailable,
)


@dataclass(frozen=True, slots=True)
class VendorProfile:
    """How to speak about a vendor in messages to agents."""

    key: str
    display_name: str
    credentials_hint: str


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP-date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP-dates are GMT by definition
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def parse_rate_limit_reset(value: str | None, now: datetime) -> float | None:
    """Seconds until Jira's `X-RateLimit-Reset` (an ISO-8601 timestamp such as 2024-05-08T15:52Z)."""
    if value is None or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def requested_wait(response: httpx.Response, now: datetime) -> float | None:
    """The longest wait the vendor asked for in this response, if it asked for any."""
    asked = [
        w
        for w in (
            parse_retry_after(response.headers.get("Retry-After"), now),
            parse_rate_limit_reset(response.headers.get("X-RateLimit-Reset"), now),
        )
        if w is not None
    ]
    return max(asked) if asked else None


def problems_from_body(response: httpx.Response) -> list[Problem]:
    """Field errors from a vendor's 4xx body (Jira `errors`/`errorMessages`, Zendesk `details`)."""
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    problems: list[Problem] = []
    errors = body.get("errors")
    if isinstance(errors, dict):  # Jira: {"customfield_10042": "Option 'x' is not valid"}
        problems += [Problem(str(k), "rejected", str(v)) for k, v in errors.items()]
    elif isinstance(errors, list):  # Zendesk JSON:API style: [{"code", "title", "detail"}]
        for e in errors:
            if isinstance(e, dict):
                msg = e.get("detail") or e.get("title") or e.get("code") or "rejected"
                problems.append(Problem("", str(e.get("code") or "rejected"), str(msg)))
    for message in body.get("errorMessages") or []:  # Jira: messages not tied to a field
        problems.append(Problem("", "rejected", str(message)))
    details = body.get("details")
    if isinstance(details, dict):  # Zendesk: {"status": [{"description": ..., "error": ...}]}
        for fld, items in details.items():
            for item in items if isinstance(items, list) else [items]:
                if isinstance(item, dict):
                    msg = item.get("description") or item.get("error") or "rejected"
                    problems.append(Problem(str(fld), str(item.get("error") or "rejected"), str(msg)))
                else:
                    problems.append(Problem(str(fld), "rejected", str(item)))
    if not problems and isinstance(body.get("description"), str):  # Zendesk: {"error", "description"}
        problems.append(Problem("", str(body.get("error") or "rejected"), body["description"]))
    return problems


def error_for_response(
    profile: VendorProfile, response: httpx.Response, retry_after: float | None = None
) -> EscalinkError:
    """The domain error for a final, unsuccessful answer."""
    name, status, vendor = profile.display_name, response.status_code, profile.key
    if status == 401:
        return VendorAuthFailed(
            f"{name} refused Escalink's credentials: {profile.credentials_hint}.", vendor=vendor
        )
    if status == 403:
        return VendorPermissionDenied(
            f"{name} did not allow Escalink's account to do this (HTTP 403): ask an admin to give "
            f"Escalink's {name} account the needed permission.",
            vendor=vendor,
        )
    if status == 404:
        return NotFound(
            f"{name} could not find this (HTTP 404): check the id, or ask an admin whether "
            f"Escalink's {name} account can see it.",
            vendor=vendor,
        )
    if status == 429 or status >= 500:
        return unavailable(profile, f"{name} is busy or unavailable (HTTP {status})", retry_after)
    problems = problems_from_body(response)
    summary = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems[:5])
    # The vendor's own messages often end with a full stop: never add a second one.
    said = f"{name} refused the request (HTTP {status})" + (f": {summary}" if summary else "")
    hint = "Ask an admin to check this request against the vendor's settings."
    if any(p.field for p in problems):
        hint = "Correct the listed fields, or ask an admin if they are not yours to change."
    return VendorRejected(
        said.rstrip(". ") + ". " + hint,
        problems=problems,
        vendor=vendor,
    )


def unavailable(profile: VendorProfile, reason: str, retry_after: float | None) -> VendorUnavailable:
    when = f"in {math.ceil(retry_after)} seconds" if retry_after is not None else "in a few minutes"
    return VendorUnavailable(
        f"{reason}. Nothing is lost: try again {when}.", retry_after=retry_after, vendor=profile.key
    )
