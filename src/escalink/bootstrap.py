"""The composition root: the only place that chooses and wires adapters."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from escalink.adapters.db.store import SqlStore, make_engine, upgrade_to_head
from escalink.adapters.jira.client import JiraTracker
from escalink.adapters.zendesk.client import ZendeskHelpdesk
from escalink.config import Settings
from escalink.policy.loader import load_policy
from escalink.policy.schema import Policy
from escalink.services.escalate import EscalationOptions, EscalationService
from escalink.services.inbound import InboundSync
from escalink.services.linking import LinkAdmin
from escalink.services.links import LinkedIssues
from escalink.services.notify import NotifyService
from escalink.services.phi_guard import PhiGuard, Scanner
from escalink.services.roles import RoleMap


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
    tracker = JiraTracker.from_settings(settings, transport=jira_transport)
    if scanner is None:
        from escalink.phi.detector import default_detector

        scanner = default_detector().scan
    guard = PhiGuard(scanner)
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
        escalations=EscalationService(policy, helpdesk, tracker, store, guard, options, audit=store),
        links=LinkedIssues(store, tracker, ttl_seconds=settings.links_cache_seconds),
        guard=guard,
        notify=NotifyService(helpdesk, tracker, store, guard, max_attachment_bytes=settings.jira_attachment_max_bytes,
                             audit=store),
        linking=LinkAdmin(store, tracker, helpdesk, linked_issues_field_id=settings.zendesk_linked_issues_field_id,
                          audit=store),
        roles=RoleMap(settings.roles),
        inbound=InboundSync(store, helpdesk, tracker, policy.sync, coalesce_seconds=settings.sync_coalesce_seconds,
                            audit=store),
    )
