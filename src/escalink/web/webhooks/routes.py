"""Inbound webhooks from Jira and Zendesk: verify, store, answer. Processing happens later.

The signature is checked over the raw body before anything is parsed or stored; a request
that fails it gets 401 problem+json and leaves no trace. A verified delivery is answered 200
only once it is stored, so a vendor that saw 200 can forget it. Replays (same delivery id)
are answered 200 too, and stored once.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from escalink.adapters.headers import header_value
from escalink.adapters.jira.webhook import SIGNATURE_HEADER as JIRA_SIGNATURE_HEADER
from escalink.adapters.jira.webhook import verify_jira_signature
from escalink.adapters.zendesk.webhook import SIGNATURE_HEADER as ZENDESK_SIGNATURE_HEADER
from escalink.adapters.zendesk.webhook import TIMESTAMP_HEADER, verify_zendesk_signature
from escalink.bootstrap import Container
from escalink.services.inbound_accept import Receipt
from escalink.web.deps import container
from escalink.web.problems import PROBLEM_JSON, ProblemDetails, problem_response

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetails, "content": {PROBLEM_JSON: {}}} for code in (401, 503)
}


def _refused(vendor: str) -> JSONResponse:
    log.warning("webhook.refused", vendor=vendor, reason="signature")
    return problem_response(
        401, "Webhook signature refused",
        f"The {vendor} webhook signature is missing, wrong or too old; nothing was stored.",
        kind="webhook-signature",
    )


def _not_configured(vendor: str, setting: str) -> JSONResponse:
    return problem_response(
        503, "Webhook not configured",
        f"Escalink has no {vendor} webhook secret: an admin must set {setting}. Nothing was stored.",
        kind="webhook-not-configured",
    )


def _stored(receipt: Receipt) -> dict[str, Any]:
    return {"status": "stored" if receipt.stored else "duplicate", "delivery_id": receipt.delivery_id,
            "event_type": receipt.event_type}


@router.post("/jira", responses=RESPONSES, summary="Jira webhook (Cloud or Data Center), signed with X-Hub-Signature")
async def jira_webhook(request: Request, c: Container = Depends(container)) -> Any:
    secret = c.settings.jira_webhook_secret.get_secret_value().encode()
    if not secret:
        return _not_configured("Jira", "ESCALINK_JIRA_WEBHOOK_SECRET")
    body = await request.body()
    if not verify_jira_signature(secret, body, header_value(request.headers, JIRA_SIGNATURE_HEADER)):
        return _refused("Jira")
    # Storing is a blocking database write: keep it off the event loop.
    return _stored(await run_in_threadpool(c.inbound.accept_jira, body, request.headers))


@router.post("/zendesk", responses=RESPONSES, summary="Zendesk webhook, signed with X-Zendesk-Webhook-Signature")
async def zendesk_webhook(request: Request, c: Container = Depends(container)) -> Any:
    secret = c.settings.zendesk_webhook_secret.get_secret_value().encode()
    if not secret:
        return _not_configured("Zendesk", "ESCALINK_ZENDESK_WEBHOOK_SECRET")
    body = await request.body()
    ok = verify_zendesk_signature(
        secret, body, header_value(request.headers, ZENDESK_SIGNATURE_HEADER),
        header_value(request.headers, TIMESTAMP_HEADER), now=c.inbound.clock(),
    )
    if not ok:
        return _refused("Zendesk")
    return _stored(await run_in_threadpool(c.inbound.accept_zendesk, body, request.headers))
