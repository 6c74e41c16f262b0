"""SQLAlchemy implementation of the sync store ports (links, inbound events, notifications)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from escalink.adapters.db.job_store import add_jobs_in
from escalink.adapters.db.models import Delivery, Handoff, InboundEvent, Link, Notification
from escalink.ports.jobs import NOTIFY_DELIVER, NewJob
from escalink.ports.store import LinkRecord
from escalink.ports.sync_store import DeliveryRecord, HandoffRecord, InboundRecord, NotificationRecord


def _link(r: Link) -> LinkRecord:
    return LinkRecord(r.ticket_id, r.jira_issue_id, r.jira_key, r.escalation_id, r.created_at)


def _delivery(r: Delivery) -> DeliveryRecord:
    return DeliveryRecord(
        r.id, r.notification_id, r.ticket_id, r.jira_issue_id, r.jira_key, r.state, r.attempts, r.error,
        r.jira_comment_id, tuple(r.details or ()), r.updated_at,
    )


def _handoff(r: Handoff) -> HandoffRecord:
    return HandoffRecord(
        r.id, r.ticket_id, r.requested_by, r.target_issue_id, r.body, tuple(r.attachment_ids), r.status,
        r.done_by, r.notification_id, r.created_at,
    )


class SyncTables:
    """Mixed into SqlStore; expects `_sessions` (a sessionmaker)."""

    _sessions: sessionmaker[Session]

    # --- links ---------------------------------------------------------------------------

    def add_link(self, ticket_id: int, issue_id: str, key: str, escalation_id: str | None = None) -> bool:
        try:
            with self._sessions() as s, s.begin():
                s.add(Link(ticket_id=ticket_id, jira_issue_id=issue_id, jira_key=key, escalation_id=escalation_id))
        except IntegrityError:
            return False  # the unique constraint says it is linked already
        return True

    def remove_link(self, ticket_id: int, issue_id: str) -> bool:
        with self._sessions() as s, s.begin():
            row = s.scalar(select(Link).where(Link.ticket_id == ticket_id, Link.jira_issue_id == issue_id))
            if row is None:
                return False
            s.delete(row)
            return True

    def links_for_issue(self, issue_id: str) -> list[LinkRecord]:
        with self._sessions() as s:
            return [_link(r) for r in s.scalars(select(Link).where(Link.jira_issue_id == issue_id).order_by(Link.id))]

    def update_issue_key(self, issue_id: str, key: str) -> int:
        with self._sessions() as s, s.begin():
            result = s.execute(
                update(Link).where(Link.jira_issue_id == issue_id, Link.jira_key != key).values(jira_key=key)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def move_links(self, from_ticket: int, to_ticket: int) -> list[LinkRecord]:
        with self._sessions() as s, s.begin():
            moved: list[LinkRecord] = []
            have = set(s.scalars(select(Link.jira_issue_id).where(Link.ticket_id == to_ticket)))
            for row in s.scalars(select(Link).where(Link.ticket_id == from_ticket)).all():
                if row.jira_issue_id in have:
                    s.delete(row)  # both tickets were linked to the issue: keep the survivor's link
                else:
                    row.ticket_id = to_ticket
                    moved.append(_link(row))
            return moved

    # --- inbound events --------------------------------------------------------------------

    def record_inbound(
        self, *, source: str, delivery_id: str, event_type: str, issue_id: str | None, ticket_id: int | None,
        payload: bytes,
    ) -> bool:
        try:
            with self._sessions() as s, s.begin():
                s.add(InboundEvent(
                    source=source, delivery_id=delivery_id, event_type=event_type, issue_id=issue_id,
                    ticket_id=ticket_id, payload=payload, status="pending", attempts=0,
                ))
        except IntegrityError:
            return False
        return True

    def mark_inbound_started(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._sessions() as s, s.begin():
            # every try: a resumed write waits out the last one (see inbound_apply.apply_ticket)
            s.execute(update(InboundEvent).where(InboundEvent.id.in_(list(ids)))
                      .values(started_at=datetime.now(UTC)))

    def has_due_inbound(self, *, received_before: datetime, now: datetime) -> bool:
        """Whether any pending delivery is old enough and not waiting for a later retry (one cheap query)."""
        query = select(InboundEvent.id).where(
            InboundEvent.status == "pending", InboundEvent.received_at <= received_before,
            (InboundEvent.next_try_at.is_(None)) | (InboundEvent.next_try_at <= now),
        ).limit(1)
        with self._sessions() as s:
            return s.scalar(query) is not None

    def pending_inbound(
        self, *, received_before: datetime, due_at: datetime | None = None, limit: int = 500
    ) -> list[InboundRecord]:
        query = select(InboundEvent).where(
            InboundEvent.status == "pending", InboundEvent.received_at <= received_before
        )
        if due_at is not None:
            # Events waiting for a retry must not take the batch's places from events that are due.
            query = query.where((InboundEvent.next_try_at.is_(None)) | (InboundEvent.next_try_at <= due_at))
        with self._sessions() as s:
            rows = s.scalars(query.order_by(InboundEvent.id).limit(limit))
            return [
                InboundRecord(r.id, r.source, r.delivery_id, r.event_type, r.issue_id, r.ticket_id, r.payload,
                              r.status, r.attempts, r.received_at, r.next_try_at, r.started_at)
                for r in rows
            ]

    def get_inbound(self, inbound_id: int) -> InboundRecord | None:
        with self._sessions() as s:
            r = s.get(InboundEvent, inbound_id)
            if r is None:
                return None
            return InboundRecord(r.id, r.source, r.delivery_id, r.event_type, r.issue_id, r.ticket_id, r.payload,
                                 r.status, r.attempts, r.received_at, r.next_try_at, r.started_at)

    def retry_inbound(self, inbound_id: int, *, attempts: int, next_try_at: datetime, error: str) -> None:
        with self._sessions() as s, s.begin():
            s.execute(
                update(InboundEvent)
                .where(InboundEvent.id == inbound_id, InboundEvent.status == "pending")
                .values(attempts=attempts, next_try_at=next_try_at, error=error[:200])
            )

    def finish_inbound(self, ids: Sequence[int], *, status: str, error: str | None = None) -> None:
        if not ids:
            return
        with self._sessions() as s, s.begin():
            s.execute(
                update(InboundEvent)
                .where(InboundEvent.id.in_(list(ids)))
                .values(status=status, error=error, payload=None, processed_at=datetime.now(UTC),
                        next_try_at=None, attempts=InboundEvent.attempts + 1)
            )

    def inbound_counts(self) -> dict[str, int]:
        with self._sessions() as s:
            rows = s.execute(select(InboundEvent.status, func.count()).group_by(InboundEvent.status)).all()
            return {status: int(n) for status, n in rows}

    # --- notifications, deliveries, hand-offs ------------------------------------------------

    def create_notification(
        self, *, ticket_id: int, agent_email: str, body: str, attachment_ids: Sequence[int],
        target_issue_id: str | None, targets: Sequence[tuple[str, str]],
        details: Sequence[dict[str, object]] = (), with_jobs: bool = False,
    ) -> tuple[str, list[DeliveryRecord]]:
        notification_id = str(uuid.uuid4())
        with self._sessions() as s, s.begin():
            s.add(Notification(id=notification_id, ticket_id=ticket_id, agent_email=agent_email, body=body,
                               attachment_ids=list(attachment_ids), target_issue_id=target_issue_id))
            s.flush()
            rows = [Delivery(notification_id=notification_id, ticket_id=ticket_id, jira_issue_id=issue_id,
                             jira_key=key, state="pending", attempts=0, details=list(details))
                    for issue_id, key in targets]
            s.add_all(rows)
            s.flush()
            if with_jobs:
                # The outbox: each receipt and the job that delivers it commit together.
                add_jobs_in(s, [NewJob(NOTIFY_DELIVER, ticket_id=ticket_id, delivery_id=r.id, ordered=False)
                                for r in rows])
            return notification_id, [_delivery(r) for r in rows]

    def get_notification(self, notification_id: str) -> NotificationRecord | None:
        with self._sessions() as s:
            r = s.get(Notification, notification_id)
            if r is None:
                return None
            return NotificationRecord(r.id, r.ticket_id, r.agent_email, r.body, tuple(r.attachment_ids),
                                      r.target_issue_id, r.created_at)

    def get_delivery(self, delivery_id: int) -> DeliveryRecord | None:
        with self._sessions() as s:
            r = s.get(Delivery, delivery_id)
            return _delivery(r) if r else None

    def set_delivery(
        self, delivery_id: int, *, state: str, error: str | None = None, jira_comment_id: str | None = None,
        details: Sequence[dict[str, object]] | None = None, attempted: bool = True,
    ) -> DeliveryRecord:
        with self._sessions() as s, s.begin():
            r = s.get_one(Delivery, delivery_id)
            r.state = state
            r.error = error
            if jira_comment_id is not None:
                r.jira_comment_id = jira_comment_id
            if details is not None:
                r.details = list(details)
            if attempted:
                r.attempts += 1
            r.updated_at = datetime.now(UTC)
            s.flush()
            return _delivery(r)

    def deliveries_for_ticket(self, ticket_id: int) -> list[DeliveryRecord]:
        with self._sessions() as s:
            rows = s.scalars(select(Delivery).where(Delivery.ticket_id == ticket_id).order_by(Delivery.id))
            return [_delivery(r) for r in rows]

    def create_handoff(
        self, *, ticket_id: int, requested_by: str, target_issue_id: str, body: str, attachment_ids: Sequence[int]
    ) -> HandoffRecord:
        with self._sessions() as s, s.begin():
            row = Handoff(ticket_id=ticket_id, requested_by=requested_by, target_issue_id=target_issue_id,
                          body=body, attachment_ids=list(attachment_ids), status="pending")
            s.add(row)
            s.flush()
            return _handoff(row)

    def handoffs(self, *, status: str | None = "pending", ticket_id: int | None = None) -> list[HandoffRecord]:
        with self._sessions() as s:
            q = select(Handoff).order_by(Handoff.id)
            if status is not None:
                q = q.where(Handoff.status == status)
            if ticket_id is not None:
                q = q.where(Handoff.ticket_id == ticket_id)
            return [_handoff(r) for r in s.scalars(q)]

    def close_handoff(
        self, handoff_id: int, *, done_by: str, notification_id: str | None, status: str = "done"
    ) -> None:
        with self._sessions() as s, s.begin():
            row = s.get_one(Handoff, handoff_id)
            row.status, row.done_by, row.notification_id = status, done_by, notification_id
