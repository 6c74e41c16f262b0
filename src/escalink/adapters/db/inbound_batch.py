"""Inbound events stored many at a time: the SQL side of the webhook group commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, Engine, Insert, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from escalink.adapters.db.models import InboundEvent, utcnow
from escalink.ports.inbound_batch import NewInbound

_TABLE = cast(Table, InboundEvent.__table__)
_KEY = ["source", "delivery_id"]  # the uq_inbound_source_delivery constraint


def _insert_new_only(dialect: str) -> Insert | None:
    """INSERT ... ON CONFLICT (source, delivery_id) DO NOTHING RETURNING the keys it did insert."""
    if dialect == "sqlite":
        stmt: Insert = sqlite.insert(_TABLE).on_conflict_do_nothing(index_elements=_KEY)
    elif dialect == "postgresql":
        stmt = postgresql.insert(_TABLE).on_conflict_do_nothing(index_elements=_KEY)
    else:
        return None
    return stmt.returning(_TABLE.c.source, _TABLE.c.delivery_id)


class SqlInboundBatch:
    """InboundBatchStore over SQLAlchemy Core, for one writer thread at a time.

    On SQLite and PostgreSQL a batch is one executemany INSERT that skips replays and returns the
    keys it inserted, in one transaction. The connection is kept from batch to batch (no pool
    round trip, no pre-ping per batch) until `release`, and dropped after any database error so
    the next batch starts on a fresh one. Other engines get one transaction per delivery, replays
    told apart by the unique constraint (correct, without the shared commit).
    """

    def __init__(self, engine: Engine, *, shared_commit: bool | None = None) -> None:
        self.engine = engine
        stmt = _insert_new_only(engine.dialect.name)
        if shared_commit and stmt is None:
            raise ValueError(f"no shared-commit insert for the {engine.dialect.name} dialect")
        self._insert = stmt if shared_commit is not False else None
        self._conn: Connection | None = None

    def record_inbound_batch(self, deliveries: Sequence[NewInbound]) -> list[bool]:
        if not deliveries:
            return []
        received = utcnow()
        rows = [_row(d, received) for d in deliveries]
        if self._insert is None:
            return [self._insert_one(row) for row in rows]
        if self._conn is None:
            self._conn = self.engine.connect()
        try:
            with self._conn.begin():
                inserted = {(source, delivery_id) for source, delivery_id in self._conn.execute(self._insert, rows)}
        except SQLAlchemyError:
            self.release()  # it may be the connection that failed (a database restart)
            raise
        stored: list[bool] = []
        for d in deliveries:
            key = (d.source, d.delivery_id)
            stored.append(key in inserted)
            inserted.discard(key)  # a second copy in the same batch is a replay
        return stored

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _insert_one(self, row: dict[str, Any]) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(_TABLE), row)
        except IntegrityError:
            return False
        return True


def _row(d: NewInbound, received: Any) -> dict[str, Any]:
    return {
        "source": d.source, "delivery_id": d.delivery_id, "event_type": d.event_type, "issue_id": d.issue_id,
        "ticket_id": d.ticket_id, "payload": d.payload, "status": "pending", "attempts": 0, "received_at": received,
    }
