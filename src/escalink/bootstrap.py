"""The composition root: the only place that chooses and wires adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.adapters.http import utc_now
from escalink.adapters.jira.client import JiraTracker
from escalink.adapters.queue.huey_queue import HueyQueue, make_huey
from escalink.adapters.zendesk.client import ZendeskHelpdesk
from escalink.config import Settings
from escalink.policy.loader import load_policy
from escalink.policy.schema import Policy
from escalink.services.escalate import EscalationOptions, EscalationService
from escalink.services.escalation_jobs import EscalationJobs
from escalink.services.inbound import InboundSync
from escalink.services.inbound_jobs import InboundJobs, ReconcileJobs
from escalink.services.jobs import JobHandler, JobRunner, RunnerOptions
from escalink.services.linking import LinkAdmin
from escalink.services.links import LinkedIssues
from escalink.services.notify import NotifyService
from escalink.services.notify_jobs import NotifyJobs
from escalink.services.phi_guard import PhiGuard, Scanner
from escalink.services.reconcile import Reconciler
from escalink.services.roles import RoleMap
from escalink.services.sweeper import Sweeper, SweepOptions


@dataclass
class Container:
    settings: Settings
    policy: Policy
    store: SqlStore
    helpdesk: ZendeskHelpdesk
    tracker: JiraTracker
    escalations: EscalationService
    links: LinkedIssues
    guard: PhiGuard
    notify: NotifyService
    linking: LinkAdmin
    roles: RoleMap
    inbound: InboundSync
    runner: JobRunner
    queue: HueyQueue
    sweeper: Sweeper

    def close(self) -> None:
        self.store.engine.dispose()


def build_container(
    settings: Settings,
    *,
    migrate: bool = True,
    jira_transport: httpx.BaseTransport | None = None,
    zendesk_transport: httpx.BaseTransport | None = None,
    scanner: Scanner | None = None,
) -> Container:
    if migrate:
        upgrade_to_head(settings.database_url)
    policy = load_policy(settings.policy_file)
    store = SqlStore(make_engine(settings.database_url))
    helpdesk = ZendeskHelpdesk.from_settings(settings, transport=zendesk_transport)
    tracker = JiraTracker.from_settings(settings, transport=jira_transport, project_key=policy.project.key)
    if scanner is None:
        from escalink.phi.detector import default_detector

        scanner = default_detector().scan
    guard = PhiGuard(scanner)
    runner = JobRunner(store, options=RunnerOptions(
        lease_seconds=settings.jobs_lease_seconds, max_attempts=settings.jobs_max_attempts,
        backoff_max_seconds=settings.jobs_backoff_max_seconds,
    ))
    queue = HueyQueue(make_huey(settings.jobs_backend, database_url=settings.database_url,
                                queue_path=settings.jobs_queue_path, redis_url=settings.redis_url), runner, store)
    # A write in flight when a process stopped lands within its HTTP timeout, or a little after.
    inbound = InboundSync(store, helpdesk, tracker, policy.sync, coalesce_seconds=settings.sync_coalesce_seconds,
                          write_window_seconds=2 * settings.http_timeout_seconds, audit=store)
    notify = NotifyService(helpdesk, tracker, store, guard, max_attachment_bytes=settings.jira_attachment_max_bytes,
                           audit=store, dispatcher=queue, wait_seconds=settings.escalate_wait_seconds)
    handlers: dict[str, JobHandler] = {
        **EscalationJobs(helpdesk, tracker, store, store).kinds(),
        **InboundJobs(inbound).kinds(),
        **ReconcileJobs(Reconciler(tracker, store, project_key=policy.project.key, clock=utc_now,
                                   overlap=timedelta(seconds=settings.reconcile_overlap_seconds))).kinds(),
        **NotifyJobs(helpdesk, tracker, store, store, on_settled=notify.delivery_settled).kinds(),
    }
    for kind, handler in handlers.items():
        runner.register(kind, handler)
    sweeper = Sweeper(store, store, queue, SweepOptions(
        poll_seconds=settings.sync_poll_seconds or 1.0, coalesce_seconds=settings.sync_coalesce_seconds,
        reconcile_seconds=settings.reconcile_seconds,
    ))
    options = EscalationOptions(
        hold_after_escalation=settings.hold_after_escalation,
        tags=tuple(settings.zendesk_escalation_tags),
        linked_issues_field_id=settings.zendesk_linked_issues_field_id,
    )
    return Container(
        settings=settings,
        policy=policy,
        store=store,
        helpdesk=helpdesk,
        tracker=tracker,
        escalations=EscalationService(policy, helpdesk, tracker, store, guard, options, audit=store, dispatcher=queue,
                                      wait_seconds=settings.escalate_wait_seconds),
        links=LinkedIssues(store, tracker, ttl_seconds=settings.links_cache_seconds),
        guard=guard,
        notify=notify,
        linking=LinkAdmin(store, tracker, helpdesk, linked_issues_field_id=settings.zendesk_linked_issues_field_id,
                          audit=store),
        roles=RoleMap(settings.roles),
        inbound=inbound,
        runner=runner,
        queue=queue,
        sweeper=sweeper,
    )
