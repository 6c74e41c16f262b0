"""What runs beside the web app while it serves: job workers (embedded mode) and the sweeper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import structlog
from fastapi import FastAPI

from escalink.bootstrap import Container

log = structlog.get_logger(__name__)


@asynccontextmanager
async def sync_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Embedded mode runs the job workers in this process; every mode sweeps (off when
    sync_poll_seconds is 0: then jobs run only when dispatched, as in tests)."""
    c: Container = app.state.container
    embedded = c.settings.jobs_backend == "embedded"
    if embedded:
        # In embedded mode this process is the only worker: a job still marked running was cut short
        # by the previous run (a crash, SIGKILL). It runs again once a request that run had on the
        # wire can no longer land (twice the HTTP timeout), so its idempotency check sees that write.
        wait = timedelta(seconds=2 * c.settings.http_timeout_seconds)
        released = c.store.release_leases(not_before=datetime.now(UTC) + wait)
        if released:
            log.warning("jobs.leases_released", jobs=released)
        c.queue.start_embedded(c.settings.jobs_workers)
    sweeping = c.settings.sync_poll_seconds > 0
    if sweeping:
        c.sweeper.start()
    try:
        yield
    finally:
        if sweeping:
            c.sweeper.stop()
        if embedded:
            c.queue.stop_embedded()
