"""Inbound webhooks from Jira and Zendesk: verify, store, answer. Processing happens later.

The signature is checked over the raw body before anything is parsed or stored; a request
that fails it gets 401 problem+json and leaves no trace. A verified delivery is answered 200
only once it is stored, so a vendor that saw 200 can forget it. Replays (same delivery id)
are answered 200 too, and stored once.

`WebhookIntake` is the one implementation. Under load the requests reach it through the
pure-ASGI fast path (`escalink.web.webhooks.fast_path`), which skips routing, dependency
injection and response validation; the FastAPI routes below document the endpoints and serve
them wherever the fast path is not mounted. Deliveries are stored by a group-commit writer, so
concurrent requests share one transaction and no request occupies a worker thread.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from escalink.adapters.db.inbound_batch import SqlInboundBatch
from escalink.adapters.db.inbound_writer import GroupCommitWriter
from escalink.adapters.db.store import SqlStore
from escalink.adapters.headers import header_value
from escalink.adapters.jira.webhook import SIGNATURE_HEADER as JIRA_SIGNATURE_HEADER
from escalink.adapters.jira.webhook import verify_jira_signature
from escalink.adapters.zendesk.webhook import SIGNATURE_HEADER as ZENDESK_SIGNATURE_HEADER
from escalink.adapters.zendesk.webhook import TIMESTAMP_HEADER, verify_zendesk_signature
from escalink.bootstrap import Container
from escalink.ports.inbound_batch import NewInbound
from escalink.services.inbound_accept import describe_jira, describe_zendesk, received
from escalink.web.deps import container
from escalink.web.problems import PROBLEM_JSON, ProblemDetails, problem_response

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetails, "content": {PROBLEM_JSON: {}}} for code in (401, 503)
}
RETRY_AFTER_SECONDS = 5  # when the database refused a delivery: vendors retry on 5xx


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


def _not_stored(vendor: str, exc: SQLAlchemyError) -> JSONResponse:
    # The error's text may quote the statement's parameters, i.e. the payload: only its class is logged.
    log.warning("webhook.not_stored", vendor=vendor, error=type(exc).__name__)
    return problem_response(
        503, "Webhook not stored",
        f"The {vendor} webhook could not be stored just now; nothing was acknowledged. Send it again.",
        kind="webhook-not-stored", headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class WebhookIntake:
    """Verify, store, answer, for one container; shared by every app that serves that container."""

    def __init__(self, writer: GroupCommitWriter) -> None:
        self.writer = writer

    async def jira(self, c: Container, body: bytes, headers: Mapping[str, str]) -> Response:
        secret = c.settings.jira_webhook_secret.get_secret_value().encode()
        if not secret:
            return _not_configured("Jira", "ESCALINK_JIRA_WEBHOOK_SECRET")
        if not verify_jira_signature(secret, body, header_value(headers, JIRA_SIGNATURE_HEADER)):
            return _refused("Jira")
        return await self._store("Jira", describe_jira(body, headers))

    async def zendesk(self, c: Container, body: bytes, headers: Mapping[str, str]) -> Response:
        secret = c.settings.zendesk_webhook_secret.get_secret_value().encode()
        if not secret:
            return _not_configured("Zendesk", "ESCALINK_ZENDESK_WEBHOOK_SECRET")
        ok = verify_zendesk_signature(
            secret, body, header_value(headers, ZENDESK_SIGNATURE_HEADER),
            header_value(headers, TIMESTAMP_HEADER), now=c.inbound.clock(),
        )
        if not ok:
            return _refused("Zendesk")
        return await self._store("Zendesk", describe_zendesk(body, headers))

    async def _store(self, vendor: str, delivery: NewInbound) -> Response:
        try:
            stored = await self.writer.record(delivery)
        except SQLAlchemyError as exc:
            return _not_stored(vendor, exc)
        receipt = received(delivery, stored)
        return JSONResponse({"status": "stored" if receipt.stored else "duplicate",
                             "delivery_id": receipt.delivery_id, "event_type": receipt.event_type})


_intakes: weakref.WeakKeyDictionary[SqlStore, WebhookIntake] = weakref.WeakKeyDictionary()


def intake_for(c: Container) -> WebhookIntake:
    """The intake of `c`'s store: one writer per database, whichever app or event loop asks."""
    intake = _intakes.get(c.store)
    if intake is None:
        intake = _intakes.setdefault(c.store, WebhookIntake(GroupCommitWriter(SqlInboundBatch(c.store.engine))))
    return intake


@router.post("/jira", responses=RESPONSES, summary="Jira webhook (Cloud or Data Center), signed with X-Hub-Signature")
async def jira_webhook(request: Request, c: Container = Depends(container)) -> Any:
    return await intake_for(c).jira(c, await request.body(), request.headers)


@router.post("/zendesk", responses=RESPONSES, summary="Zendesk webhook, signed with X-Zendesk-Webhook-Signature")
async def zendesk_webhook(request: Request, c: Container = Depends(container)) -> Any:
    return await intake_for(c).zendesk(c, await request.body(), request.headers)
