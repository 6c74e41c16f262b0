"""FastAPI dependencies: the wired container and the optional API token."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from fastapi import Request

from escalink.domain.errors import EscalinkError

if TYPE_CHECKING:
    from escalink.bootstrap import Container


class Unauthorized(EscalinkError):
    status = 401
    title = "Authentication required"


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def require_token(request: Request) -> None:
    token = request.app.state.container.settings.api_token.get_secret_value()
    if not token:
        return
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Unauthorized("Send 'Authorization: Bearer <ESCALINK_API_TOKEN>'.")
