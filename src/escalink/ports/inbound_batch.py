"""Store port for receiving webhooks under load: many deliveries stored in one transaction.

One commit (one fsync on SQLite, one WAL flush on PostgreSQL) then acknowledges every delivery
of the batch, instead of one commit per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class NewInbound:
    """A verified delivery about to be stored: the arguments of `InboundStore.record_inbound` as one value."""

    source: str  # "jira" or "zendesk"
    delivery_id: str
    event_type: str
    issue_id: str | None
    ticket_id: int | None
    payload: bytes


class InboundBatchStore(Protocol):
    """Stores webhook deliveries as `pending` inbound events, de-duplicated on (source, delivery_id)."""

    def record_inbound_batch(self, deliveries: Sequence[NewInbound]) -> list[bool]:
        """Store every delivery in one transaction and say, for each in order, whether it was stored.

        False is a replay: a delivery with this (source, delivery_id) was stored before, or earlier
        in the same batch. Raises when the transaction fails; then none of them is stored.
        """
        ...

    def release(self) -> None:
        """Give back what batches keep between them (a database connection); the next batch takes it again."""
        ...
