"""Group commit for webhook deliveries: one writer thread, one transaction for whatever is waiting.

A request hands its delivery over with `await writer.record(delivery)` and is answered only when
the transaction holding it has committed, so a 200 still means "stored". While one batch commits,
the next requests queue up and go into the following batch together: the commit cost (an fsync on
SQLite, a WAL flush on PostgreSQL) is paid once per batch, not once per request, and a single
writer never waits on SQLite's write lock held by another request thread. Nothing waits on a timer:
a request arriving at an idle writer is stored at once.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import SQLAlchemyError

from escalink.ports.inbound_batch import InboundBatchStore, NewInbound

log = structlog.get_logger(__name__)

MAX_BATCH = 128  # bounds one statement's size and the wait of the last request in it
IDLE_SECONDS = 5.0  # the thread ends after this long without work; the next delivery starts a new one


@dataclass(slots=True)
class _Pending:
    delivery: NewInbound
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[bool]


class GroupCommitWriter:
    """Stores deliveries from many concurrent requests, several per transaction (see module doc).

    Safe to share between event loops (each waiting request is answered on its own loop) and
    cheap to keep around: the thread exists only while deliveries come in.
    """

    def __init__(
        self, store: InboundBatchStore, *, max_batch: int = MAX_BATCH, idle_seconds: float = IDLE_SECONDS
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # committed transactions, for tests and diagnostics

    @property
    def running(self) -> bool:
        """Whether the writer thread is there (it ends after `idle_seconds` without deliveries)."""
        return self._thread is not None

    async def record(self, delivery: NewInbound) -> bool:
        """Store `delivery` (True) or recognise a replay (False), once its transaction has committed.

        Raises what storing raised (SQLAlchemyError when the database failed): nothing was stored then.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._queue.put(_Pending(delivery, loop, future))
        self._ensure_thread()
        return await future

    # --- the writer thread ----------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="inbound-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    # Checked under the lock: a delivery queued after this sees no thread and starts one,
                    # and that thread finds the connection already given back.
                    if self._queue.empty():
                        self._thread = None
                        self.store.release()
                        return
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._store(batch)

    def _store(self, batch: list[_Pending]) -> None:
        outcomes: list[bool | BaseException]
        try:
            outcomes = self._outcomes([p.delivery for p in batch])
        except Exception as exc:
            # Not a database failure but a bug: it must reach the waiting requests (they answer 500)
            # rather than end this thread and leave them, and every later delivery, waiting forever.
            log.error("inbound.writer_failed", size=len(batch), error=type(exc).__name__)
            outcomes = [exc] * len(batch)
        self._answer(batch, outcomes)

    def _outcomes(self, deliveries: list[NewInbound]) -> list[bool | BaseException]:
        try:
            return list(self._commit(deliveries))
        except SQLAlchemyError as exc:
            # Each again, alone: one delivery the database refuses must not fail the others, and a
            # connection lost since the last batch (a database restart) is replaced by a fresh one.
            log.warning("inbound.batch_failed", size=len(deliveries), error=type(exc).__name__)
            return [self._alone(d) for d in deliveries]

    def _commit(self, deliveries: Sequence[NewInbound]) -> list[bool]:
        stored = self.store.record_inbound_batch(deliveries)
        if len(stored) != len(deliveries):
            raise RuntimeError(f"the store answered {len(stored)} outcomes for {len(deliveries)} deliveries")
        self.batches += 1
        return stored

    def _alone(self, delivery: NewInbound) -> bool | BaseException:
        try:
            return self._commit([delivery])[0]
        except SQLAlchemyError as exc:
            return exc

    def _answer(self, batch: list[_Pending], outcomes: Sequence[bool | BaseException]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[bool], bool | BaseException]]] = {}
        for pending, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(pending.loop, []).append((pending.future, outcome))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:
                # That loop is closed: its requests are gone; what was stored stays stored (a vendor retry is a replay).
                log.info("inbound.answer_dropped", count=len(settled))


def _settle(settled: list[tuple[asyncio.Future[bool], bool | BaseException]]) -> None:
    for future, outcome in settled:
        if future.done():  # the request was cancelled meanwhile
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
