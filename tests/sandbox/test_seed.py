"""The seed covers every escalation area, both issue types, and keeps PHI out of Jira drafts."""

from __future__ import annotations

import re
import uuid

from escalink.sandbox.seed import Seed
from escalink.sandbox.zendesk_state import ZendeskState

ROWS = [
    [
        "Add AMS Program/VMP",
        "Consult Limits",
        "Devices",
        "Eligibility",
        "Form Escalation",
        "Program Related",
        "Switch Provider",
        "VBID escalation",
    ],
    ["Lab", "Fax", "Document upload Escalation"],
    ["Metric Updates", "Change Starting Weight"],
    ["General feedback of product"],
    ["General question on how something works"],
    [
        "Anything historically that went to infra support",
        "Delete member response",
        "Duplicate Dosespot issues",
        "Urgent blocking items needing technical assistance",
    ],
    ["Other"],
    ["General technical issues/failures", "Incorrect Messaging"],
]
BUG_AREAS = set(ROWS[-1])


def test_every_area_row_and_both_issue_types(seed: Seed) -> None:
    areas = [d.area for d in seed.drafts()]
    assert len(seed.tickets) >= 16
    for row in ROWS:
        assert any(a in row for a in areas), row
    assert set(areas) <= {a for row in ROWS for a in row}
    assert any(a in BUG_AREAS for a in areas) and any(a not in BUG_AREAS for a in areas)


def test_drafts_are_complete_and_safe(seed: Seed) -> None:
    member_names = [m["name"] for m in seed.data["zendesk"]["members"]]
    agents = {a["email"] for a in seed.data["zendesk"]["agents"]}
    phi = re.compile(
        r"\b(19|20)\d\d-\d\d-\d\d\b|\b555-\d{4}\b|\b\d{2,3}\s?lb\b|metformin|lisinopril|A1C", re.I
    )
    for draft in seed.drafts():
        assert draft.member_uuids
        for value in draft.member_uuids:
            assert uuid.UUID(value).version == 4
        assert draft.priority != "Release Blocker"
        assert draft.agent_email in agents
        assert draft.checklist == [
            "reviewed_escalations_chart",
            "escalation_necessary",
            "issue_type_identified",
        ]
        text = " ".join(
            [
                draft.summary,
                draft.description,
                *draft.steps_to_reproduce,
                draft.expected_result,
                draft.actual_result,
            ]
        )
        slipped = seed.phi_values(draft.ticket_id)
        if slipped:  # a draft where the agent slipped PHI in on purpose: it must list every value
            assert all(v in text or v in str(draft.attachment_ids) or v in _file_names(seed, draft.ticket_id)
                       for v in slipped), slipped
            continue
        assert not any(name.split()[0] in text or name.split()[1] in text for name in member_names), text
        assert not phi.search(text), text
        if draft.area in BUG_AREAS:
            assert draft.steps_to_reproduce and draft.severity and draft.platform and draft.priority


def test_attachments_exist_and_belong_to_their_ticket(seed: Seed, zstate: ZendeskState) -> None:
    kinds = set()
    for draft in seed.drafts():
        ticket = zstate.tickets[draft.ticket_id]
        on_ticket = {i for c in ticket.comments for i in c.attachment_ids}
        assert set(draft.attachment_ids) <= on_ticket
        for att_id in draft.attachment_ids:
            att = zstate.attachments[att_id]
            kinds.add(att.file_name.rsplit(".", 1)[1])
            assert att.data
    assert {"png", "pdf", "log"} <= kinds
    assert any(a.inline for a in zstate.attachments.values())
    assert zstate.attachments[5001].data.startswith(b"\x89PNG")
    assert zstate.attachments[5006].data.startswith(b"%PDF-")


def test_threads_have_public_and_internal_comments(zstate: ZendeskState) -> None:
    with_both = [t for t in zstate.tickets.values() if {c.public for c in t.comments} == {True, False}]
    assert len(with_both) >= 16
    assert zstate.tickets[125].status == "closed"


def _file_names(seed: Seed, ticket_id: int) -> str:
    ticket = next(t for t in seed.tickets if t["id"] == ticket_id)
    return " ".join(a["file_name"] for a in ticket.get("attachments", []))


def test_some_drafts_carry_phi_for_the_guard_to_stop(seed: Seed) -> None:
    with_phi = [d.ticket_id for d in seed.drafts() if seed.phi_values(d.ticket_id)]
    assert len(with_phi) >= 3
