"""Contract: every request the adapters send validates against the vendor's official OpenAPI spec."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx
import pytest
from adapter_fakes import FakeJira, FakeZendesk, Waits, jira_settings, zendesk_comment, zendesk_settings
from test_jira_mapper import BUG, SERVICE

from escalink.adapters.jira import JiraTracker
from escalink.adapters.zendesk.client import ZendeskHelpdesk
from escalink.domain.records import TicketUpdate
from escalink.sandbox import contract  # noqa: E402


class Validating(httpx.BaseTransport):
    """Checks each request against the spec before the fake answers it."""

    def __init__(self, vendor: str, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.validator = contract.SpecValidator.for_vendor(vendor)
        self.answer = answer
        self.checked: list[str] = []
        self.errors: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        where = f"{request.method} {request.url.path}"
        self.checked.append(where)
        self.errors += [f"{where}: {e}" for e in self.validator.validate_httpx(request)]
        response = self.answer(request)
        response.request = request
        return response


@pytest.mark.parametrize(("flavor", "vendor"), [("cloud", "jira-cloud"), ("datacenter", "jira-dc")])
def test_every_jira_request_matches_the_spec(flavor: str, vendor: str) -> None:
    fake = FakeJira(flavor=flavor)
    transport = Validating(vendor, fake)
    jira = JiraTracker.from_settings(jira_settings(flavor), transport, sleep=Waits())
    created = jira.create_issue(BUG)
    jira.create_issue(dataclasses.replace(SERVICE, request_type="Uncategorized", request_type_optional=True))
    jira.add_attachment(created.id, "screen.png", b"\x89PNG fake", "image/png")
    jira.add_remote_link(
        created.id, "zendesk-ticket=4242", "https://acme.zendesk.com/agent/tickets/4242", "Zendesk #4242"
    )
    jira.get_issue(created.id)
    jira.attachment_names(created.id)
    kinds = {w.rsplit("/", 1)[-1] if "createmeta" not in w else "createmeta" for w in transport.checked}
    assert {"createmeta", "search", "issue", "attachments", "remotelink", created.id} <= kinds
    assert transport.errors == []


def test_every_zendesk_request_matches_the_spec() -> None:
    fake = FakeZendesk(comments=[zendesk_comment(i, f"comment {i}") for i in range(1, 6)])
    transport = Validating("zendesk", fake)
    zendesk = ZendeskHelpdesk.from_settings(zendesk_settings(), transport, sleep=Waits())
    assert len(zendesk.list_comments(4242)) == 5
    zendesk.get_ticket(4242)
    agent = zendesk.get_agent(901)
    assert (agent.email, agent.group_ids) == ("robin.finch@example.com", (360002,))
    zendesk.update_ticket(
        4242,
        TicketUpdate(
            internal_note="Escalated to ESCA-101",
            status="hold",
            add_tags=("jira_escalated",),
            custom_fields={360001: "ESCA-101"},
        ),
    )
    assert len(transport.checked) == 7
    assert transport.errors == []


def test_the_validator_would_catch_a_broken_request() -> None:
    """Guards the contract tests themselves: a wrong payload must be reported."""
    transport = Validating("zendesk", FakeZendesk())
    client = httpx.Client(base_url="https://acme.zendesk.com", transport=transport)
    client.put("/api/v2/tickets/1", json={"ticket": {"status": "bogus"}})
    assert transport.errors
