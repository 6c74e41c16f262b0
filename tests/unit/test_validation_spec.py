"""From an accepted draft to the issue to create."""

from __future__ import annotations

from typing import Any

import pytest

from escalink.domain.draft import Decision, EscalationDraft, IssueKind
from escalink.domain.records import IssueSpec
from escalink.policy import evaluate, load_policy, to_issue_spec

POLICY = load_policy()
CHECKLIST = ["reviewed_escalations_chart", "escalation_necessary", "issue_type_identified"]
U1 = "3F2B8C1E-9D4A-4E6B-8F1A-2C3D4E5F6A7B"
U2 = "a1b2c3d4-e5f6-4a7b-9c8d-0e1f2a3b4c5d"


def draft(**fields: Any) -> EscalationDraft:
    # model_validate: the draft's optional fields use positional defaults that type checkers
    # without the pydantic plugin read as required.
    return EscalationDraft.model_validate({"ticket_id": 77, "agent_email": "sam.agent@example.com", **fields})


def spec_for(**fields: Any) -> IssueSpec:
    d = draft(agent_email=" sam.agent@example.com ", checklist=CHECKLIST, **fields)
    decision = evaluate(POLICY, d)
    assert decision.ok, decision.problems
    return to_issue_spec(POLICY, d, decision)


def test_bug_spec_is_normalized() -> None:
    spec = spec_for(
        area="Incorrect Messaging",
        summary="  Reminder   text\nis wrong ",
        description="Seen twice.\r\n\r\nNo PHI here.  ",
        member_uuids=[f" {U1} ", U2],
        steps_to_reproduce=["1. Opened app 2. Opened messages", "3. Read the reminder"],
        expected_result=" The reminder names the right day. ",
        actual_result="It names yesterday.",
        severity="medium",
        priority="minor",
        platform="android",
        attachment_ids=[3],
    )
    assert spec == IssueSpec(
        project_key="ESCA",
        issue_type="Bug",
        summary="Reminder text is wrong",
        description="Seen twice.\n\nNo PHI here.",
        reporter_email="sam.agent@example.com",
        member_uuids=(U1.lower(), U2),
        steps_to_reproduce=("Opened app", "Opened messages", "Read the reminder"),
        expected_result="The reminder names the right day.",
        actual_result="It names yesterday.",
        severity="Medium",
        priority="Minor",
        platform="Android",
        request_type=None,
        request_type_optional=False,
        labels=("escalink",),
    )


@pytest.mark.parametrize(
    ("area", "request_type", "optional"),
    [
        ("Eligibility", "Operations Support", False),
        ("Fax", "Document Processing Support (Lab, Medical Record, etc)", False),
        ("Change Starting Weight", "Technical Execution", False),
        ("Other", "Uncategorized", True),
    ],
)
def test_service_request_spec(area: str, request_type: str, optional: bool) -> None:
    spec = spec_for(area=area, summary="Needs a look", member_uuids=[U2])
    assert spec.issue_type == "[System] Service Request"
    assert (spec.request_type, spec.request_type_optional) == (request_type, optional)
    assert (spec.severity, spec.priority, spec.platform, spec.steps_to_reproduce) == (None, None, None, ())
    assert spec.member_uuids == (U2,)


def test_rejected_draft_cannot_become_an_issue() -> None:
    d = draft(area="Devices")
    decision = evaluate(POLICY, d)
    assert not decision.ok
    with pytest.raises(ValueError, match="without problems"):
        to_issue_spec(POLICY, d, decision)


def test_decision_without_issue_kind_is_refused() -> None:
    d = draft()
    with pytest.raises(ValueError):
        to_issue_spec(POLICY, d, Decision(None, None, None, ()))


def test_labels_fall_back_to_escalink() -> None:
    unlabeled = POLICY.model_copy(update={"labels": ()})
    d = draft(area="Devices", summary="x", member_uuids=[U2], checklist=CHECKLIST)
    decision = evaluate(unlabeled, d)
    assert decision.issue_kind is IssueKind.SERVICE_REQUEST
    assert to_issue_spec(unlabeled, d, decision).labels == ("escalink",)
