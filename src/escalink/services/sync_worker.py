"""The background thread that runs the inbound processor while the web app serves."""

from __future__ import annotations

import threading

import structlog

from escalink.services.inbound import InboundSync

log = structlog.get_logger(__name__)


class SyncWorker:
    """Calls `InboundSync.process_pending` every `poll_seconds` on a daemon thread until `stop()`."""

    def __init__(self, sync: InboundSync, poll_seconds: float) -> None:
        self.sync = sync
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="escalink-inbound-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.sync.process_pending()
            except Exception as exc:  # noqa: BLE001 - one bad poll (e.g. a locked database) must not end syncing
                log.error("inbound.poll_failed", error=type(exc).__name__)
