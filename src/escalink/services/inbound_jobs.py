"""Periodic jobs of the sync: inbound processing (stored webhook deliveries become Zendesk updates, see
`inbound`) and reconciliation (what webhooks missed, see `reconcile`)."""

from __future__ import annotations

from escalink.ports.jobs import JobRecord
from escalink.services.inbound import InboundSync
from escalink.services.jobs import JobResult
from escalink.services.reconcile import Reconciler
from escalink.services.sweeper import INBOUND_PROCESS, RECONCILE


class InboundJobs:
    """One job processes every due delivery; the deliveries keep their own retry counts."""

    def __init__(self, sync: InboundSync) -> None:
        self.sync = sync

    def kinds(self) -> dict[str, InboundJobs]:
        return {INBOUND_PROCESS: self}

    def run(self, job: JobRecord, worker: str) -> JobResult:
        self.sync.process_pending()
        return JobResult()

    def settled(self, job: JobRecord, state: str, error_code: str | None, error: str | None) -> None:
        return None


class ReconcileJobs:
    """One job asks Jira what changed since the cursor and stores what webhooks missed as deliveries,
    which the inbound processing then handles like any webhook (deduplicated by comment id)."""

    def __init__(self, reconciler: Reconciler) -> None:
        self.reconciler = reconciler

    def kinds(self) -> dict[str, ReconcileJobs]:
        return {RECONCILE: self}

    def run(self, job: JobRecord, worker: str) -> JobResult:
        self.reconciler.run()
        return JobResult()

    def settled(self, job: JobRecord, state: str, error_code: str | None, error: str | None) -> None:
        return None
