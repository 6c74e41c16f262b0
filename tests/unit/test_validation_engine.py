"""The decision engine, rule by rule: each case changes a valid draft and expects exact problems."""

from __future__ import annotations

from typing import Any

import pytest

from escalink.domain.draft import EscalationDraft, IssueKind
from escalink.policy import evaluate, load_policy
from escalink.policy.schema import Policy

POLICY = load_policy()
CHECKLIST = ["reviewed_escalations_chart", "escalation_necessary", "issue_type_identified"]
U1 = "3f2b8c1e-9d4a-4e6b-8f1a-2c3d4e5f6a7b"
U2 = "a1b2c3d4-e5f6-4a7b-9c8d-0e1f2a3b4c5d"

BUG: dict[str, Any] = {
    "ticket_id": 4101,
    "agent_email": "robin.agent@example.com",
    "area": "General technical issues/failures",
    "summary": "Settings page shows a 403 error",
    "member_uuids": [U1],
    "steps_to_reproduce": ["Opened app", "Clicked settings", "Saw 403 error message"],
    "expected_result": "The settings page opens.",
    "actual_result": "A 403 error message is shown.",
    "severity": "High",
    "priority": "Major",
    "platform": "iOS",
    "checklist": CHECKLIST,
}
SR: dict[str, Any] = {
    "ticket_id": 4102,
    "agent_email": "robin.agent@example.com",
    "area": "Devices",
    "summary": "Scale readings are not syncing",
    "member_uuids": [U1],
    "checklist": CHECKLIST,
}
BUG_ONLY = ["steps_to_reproduce", "expected_result", "actual_result", "severity", "priority", "platform"]


def draft(base: dict[str, Any], **changes: Any) -> EscalationDraft:
    return EscalationDraft.model_validate({**base, **changes})


def found(policy: Policy, d: EscalationDraft) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in evaluate(policy, d).problems}


@pytest.mark.parametrize("base", [BUG, SR], ids=["bug", "service_request"])
def test_valid_drafts_pass(base: dict[str, Any]) -> None:
    decision = evaluate(POLICY, draft(base))
    assert decision.ok, decision.problems
    assert decision.warnings == ()


# (id, base draft, changes, exactly the (field, code) problems expected)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], set[tuple[str, str]]]] = [
    # area and issue type
    ("unknown area", SR, {"area": "Devicez"}, {("area", "unknown_area")}),
    ("no area nor issue type", SR, {"area": None}, {("area", "required")}),
    ("area given as empty text", SR, {"area": "  "}, {("area", "required")}),
    ("issue type contradicts area", SR, {"issue_type": "bug"}, {("issue_type", "conflict")}),
    ("bug area, service request type", BUG, {"issue_type": "service_request"}, {("issue_type", "conflict")}),
    (
        "request type contradicts area",
        SR,
        {"request_type": "Product Feedback"},
        {("request_type", "conflict")},
    ),
    ("unknown request type", SR, {"request_type": "Lab"}, {("request_type", "unknown_value")}),
    (
        "request type on a bug",
        BUG,
        {"request_type": "Technical Execution"},
        {("request_type", "not_applicable")},
    ),
    (
        "no area, SR without request type",
        SR,
        {"area": None, "issue_type": "service_request"},
        {("request_type", "required")},
    ),
    # summary
    ("summary empty", SR, {"summary": ""}, {("summary", "required")}),
    ("summary blank", BUG, {"summary": " \n "}, {("summary", "required")}),
    ("summary too long", SR, {"summary": "x" * 256}, {("summary", "too_long")}),
    ("summary at the limit", SR, {"summary": "x" * 255}, set()),
    ("summary whitespace collapses", SR, {"summary": "x" * 200 + " " * 100 + "y"}, set()),
    # member UUIDs
    ("no member uuid (bug)", BUG, {"member_uuids": []}, {("member_uuids", "required")}),
    ("no member uuid (SR)", SR, {"member_uuids": []}, {("member_uuids", "required")}),
    ("not a uuid", BUG, {"member_uuids": [U1, "member 42"]}, {("member_uuids[1]", "invalid_uuid")}),
    ("uuid in braces", SR, {"member_uuids": ["{" + U1 + "}"]}, {("member_uuids[0]", "invalid_uuid")}),
    ("two uuids in one entry", BUG, {"member_uuids": [f"{U1}, {U2}"]}, {("member_uuids[0]", "invalid_uuid")}),
    ("empty uuid entry", BUG, {"member_uuids": [U1, ""]}, {("member_uuids[1]", "required")}),
    ("duplicate uuid", BUG, {"member_uuids": [U1, U2, U1.upper()]}, {("member_uuids[2]", "duplicate")}),
    ("several uuids on a bug", BUG, {"member_uuids": [U1, U2]}, set()),
    ("several uuids on a SR", SR, {"member_uuids": [U1, U2]}, {("member_uuids", "too_many")}),
    ("upper case and spaces", SR, {"member_uuids": [f"  {U1.upper()} "]}, set()),
    # steps to reproduce
    (
        "one vague step",
        BUG,
        {"steps_to_reproduce": ["The app is broken"]},
        {("steps_to_reproduce", "not_ordered_steps")},
    ),
    (
        "numbered out of order",
        BUG,
        {"steps_to_reproduce": ["2. Clicked settings", "1. Opened app"]},
        {("steps_to_reproduce[0]", "not_ordered_steps")},
    ),
    (
        "a step skipped",
        BUG,
        {"steps_to_reproduce": ["1. Opened app", "3. Saw 403"]},
        {("steps_to_reproduce[1]", "not_ordered_steps")},
    ),
    (
        "empty step entry",
        BUG,
        {"steps_to_reproduce": ["Opened app", "", "Saw 403"]},
        {("steps_to_reproduce[1]", "required")},
    ),
    (
        "numbered but empty step",
        BUG,
        {"steps_to_reproduce": ["1. Opened app 2. 3. Saw 403"]},
        {("steps_to_reproduce[0]", "required")},
    ),
    (
        "guide's example in one entry",
        BUG,
        {"steps_to_reproduce": ["1. Opened app 2. Clicked settings 3. Saw 403 error message"]},
        set(),
    ),
    ("one step per line", BUG, {"steps_to_reproduce": ["Opened app\nClicked settings\nSaw 403"]}, set()),
    (
        "numbering across entries",
        BUG,
        {"steps_to_reproduce": ["1. Opened app", "2. Clicked 3. Saw 403"]},
        set(),
    ),
    # required bug fields, one at a time
    *[
        (
            f"{f} missing",
            BUG,
            {
                f: []
                if f == "steps_to_reproduce"
                else None
                if f in {"severity", "priority", "platform"}
                else ""
            },
            {(f, "required")},
        )
        for f in BUG_ONLY
    ],
    # values
    ("unknown severity", BUG, {"severity": "Urgent"}, {("severity", "unknown_value")}),
    ("severity any case", BUG, {"severity": "high"}, set()),
    ("unknown platform", BUG, {"platform": "Windows Phone"}, {("platform", "unknown_value")}),
    ("platform any case", BUG, {"platform": "member web app"}, set()),
    ("unknown priority", BUG, {"priority": "P1"}, {("priority", "unknown_value")}),
    ("release blocker", BUG, {"priority": "Release Blocker"}, {("priority", "not_selectable")}),
    ("release blocker lower case", BUG, {"priority": "release blocker"}, {("priority", "not_selectable")}),
    ("production blocker", BUG, {"priority": "Production Blocker"}, set()),
    # fields that do not apply to a service request, one at a time
    *[(f"{f} on a SR", SR, {f: BUG[f]}, {(f, "not_applicable")}) for f in BUG_ONLY],
    # attachments
    ("attachment ids", SR, {"attachment_ids": [11, 12]}, set()),
    ("bad attachment id", SR, {"attachment_ids": [11, 0]}, {("attachment_ids[1]", "invalid_id")}),
    # checklist
    ("one check missing", SR, {"checklist": CHECKLIST[:2]}, {("checklist", "required")}),
    ("no check confirmed", BUG, {"checklist": []}, {("checklist", "required")}),
]


@pytest.mark.parametrize(("base", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(base: dict[str, Any], changes: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert found(POLICY, draft(base, **changes)) == expected


def test_empty_draft_reports_every_problem_at_once() -> None:
    decision = evaluate(POLICY, draft({"ticket_id": 1, "agent_email": "robin.agent@example.com"}))
    assert [(p.field, p.code) for p in decision.problems] == [
        ("area", "required"),
        ("summary", "required"),
        ("member_uuids", "required"),
        ("checklist", "required"),
    ]
    assert decision.issue_kind is None and decision.issue_type_name is None


def test_empty_bug_reports_every_bug_field_in_form_order() -> None:
    d = draft({"ticket_id": 1, "agent_email": "robin.agent@example.com"}, area="Incorrect Messaging")
    fields = [p.field for p in evaluate(POLICY, d).problems]
    assert fields == ["summary", "member_uuids", *BUG_ONLY, "checklist"]


def test_many_problems_of_different_kinds_at_once() -> None:
    d = draft(
        SR,
        issue_type="bug",
        summary="",
        member_uuids=[U1, "nope"],
        severity="High",
        request_type="Product Feedback",
        checklist=[],
    )
    assert found(POLICY, d) == {
        ("issue_type", "conflict"),
        ("summary", "required"),
        ("member_uuids[1]", "invalid_uuid"),
        ("member_uuids", "too_many"),
        ("severity", "not_applicable"),
        ("request_type", "conflict"),
        ("checklist", "required"),
    }


def test_release_blocker_message_quotes_the_guide() -> None:
    (problem,) = evaluate(POLICY, draft(BUG, priority="Release Blocker")).problems
    assert problem.field == "priority"
    assert "Not used by Support; this is for the Infra team to track new feature releases." in problem.message
    assert "Production Blocker" in problem.message and "Minor" in problem.message


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("severity", "Urgent", "Critical, High, Medium, Low"),
        ("platform", "Web", "iOS, Android, Member Web App, Provider Dashboard, Health Guide Platform"),
        ("priority", "P1", "Production Blocker, Feature Blocker, Critical, Major, Minor"),
    ],
)
def test_unknown_value_lists_the_allowed_values(field: str, value: str, allowed: str) -> None:
    (problem,) = evaluate(POLICY, draft(BUG, **{field: value})).problems
    assert allowed in problem.message


def test_unknown_area_suggests_a_close_one() -> None:
    (problem,) = evaluate(POLICY, draft(SR, area="Eligibilty")).problems
    assert "Did you mean: Eligibility" in problem.message


def test_checklist_problem_lists_missing_ids() -> None:
    (problem,) = evaluate(POLICY, draft(SR, checklist=["escalation_necessary"])).problems
    assert "reviewed_escalations_chart, issue_type_identified" in problem.message


@pytest.mark.parametrize(
    ("base", "changes", "warning"),
    [
        (
            SR,
            {"area": None, "issue_type": "service_request", "request_type": "Technical Execution"},
            ("area", "no_area"),
        ),
        (
            BUG,
            {"steps_to_reproduce": ["1. Opened app 2. Clicked settings 3. Saw 403"]},
            ("steps_to_reproduce", "normalized"),
        ),
        (SR, {"checklist": [*CHECKLIST, "made_up"]}, ("checklist", "unknown_value")),
        (SR, {"attachment_ids": [5, 5]}, ("attachment_ids[1]", "duplicate")),
        (SR, {"area": "Other"}, ("request_type", "may_be_blank")),
    ],
    ids=["no_area", "normalized", "unknown_checklist_id", "duplicate_attachment", "may_be_blank"],
)
def test_warnings_do_not_block(
    base: dict[str, Any], changes: dict[str, Any], warning: tuple[str, str]
) -> None:
    decision = evaluate(POLICY, draft(base, **changes))
    assert decision.ok, decision.problems
    assert [(w.field, w.code) for w in decision.warnings] == [warning]


@pytest.mark.parametrize(
    ("changes", "kind", "name", "request_type"),
    [
        ({}, IssueKind.SERVICE_REQUEST, "[System] Service Request", "Operations Support"),
        (
            {"request_type": "operations support"},
            IssueKind.SERVICE_REQUEST,
            "[System] Service Request",
            "Operations Support",
        ),
        (
            {"area": "lab"},
            IssueKind.SERVICE_REQUEST,
            "[System] Service Request",
            "Document Processing Support (Lab, Medical Record, etc)",
        ),
        (
            {"area": None, "issue_type": "service_request", "request_type": "Product / General FAQ"},
            IssueKind.SERVICE_REQUEST,
            "[System] Service Request",
            "Product / General FAQ",
        ),
    ],
)
def test_decision_names_what_will_be_created(
    changes: dict[str, Any], kind: IssueKind, name: str, request_type: str | None
) -> None:
    decision = evaluate(POLICY, draft(SR, **changes))
    assert decision.ok, decision.problems
    assert (decision.issue_kind, decision.issue_type_name, decision.request_type) == (
        kind,
        name,
        request_type,
    )


def test_bug_decision_has_no_request_type() -> None:
    decision = evaluate(POLICY, draft(BUG))
    assert (decision.issue_kind, decision.issue_type_name, decision.request_type) == (
        IssueKind.BUG,
        "Bug",
        None,
    )


def test_policy_without_a_checklist_needs_no_confirmation() -> None:
    relaxed = POLICY.model_copy(update={"checklist": ()})
    assert evaluate(relaxed, draft(SR, checklist=[])).ok
