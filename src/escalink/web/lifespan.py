"""What runs beside the web app while it serves: the inbound processor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from escalink.bootstrap import Container
from escalink.services.sync_worker import SyncWorker


@asynccontextmanager
async def sync_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs the inbound processor while the app serves (off when sync_poll_seconds is 0)."""
    c: Container = app.state.container
    worker = SyncWorker(c.inbound, c.settings.sync_poll_seconds) if c.settings.sync_poll_seconds > 0 else None
    if worker is not None:
        worker.start()
    try:
        yield
    finally:
        if worker is not None:
            worker.stop()
