"""The shipped policy says what the escalation guide says."""

from __future__ import annotations

import pytest

from escalink.domain.draft import IssueKind
from escalink.policy import load_policy, shipped_policy_path
from escalink.policy.schema import Policy

SR = IssueKind.SERVICE_REQUEST
OPS = "Operations Support"
DOCS = "Document Processing Support (Lab, Medical Record, etc)"
TECH = "Technical Execution"

# The guide's "Escalation Types" table, one line per area: area -> issue type, request type.
AREA_TABLE: list[tuple[str, IssueKind, str | None]] = [
    ("Add AMS Program/VMP", SR, OPS),
    ("Consult Limits", SR, OPS),
    ("Devices", SR, OPS),
    ("Eligibility", SR, OPS),
    ("Form Escalation", SR, OPS),
    ("Program Related", SR, OPS),
    ("Switch Provider", SR, OPS),
    ("VBID escalation", SR, OPS),
    ("Lab", SR, DOCS),
    ("Fax", SR, DOCS),
    ("Document upload Escalation", SR, DOCS),
    ("Metric Updates", SR, TECH),
    ("Change Starting Weight", SR, TECH),
    ("General feedback of product", SR, "Product Feedback"),
    ("General question on how something works", SR, "Product / General FAQ"),
    ("Anything historically that went to infra support", SR, TECH),
    ("Delete member response", SR, TECH),
    ("Duplicate Dosespot issues", SR, TECH),
    ("Urgent blocking items needing technical assistance", SR, TECH),
    ("Other", SR, "Uncategorized"),
    ("General technical issues/failures", IssueKind.BUG, None),
    ("Incorrect Messaging", IssueKind.BUG, None),
]

PRIORITIES: list[tuple[str, str, str, bool]] = [
    (
        "Production Blocker",
        "Critical, widespread issue present in Production version.",
        "Vida app is down, Provider Dash is down, etc., impacting a significant number of users from "
        "accessing the platform.",
        True,
    ),
    (
        "Release Blocker",
        "Critical issue in a release candidate.",
        "Not used by Support; this is for the Infra team to track new feature releases.",
        False,
    ),
    (
        "Feature Blocker",
        "Critical issue with a new feature.",
        "A specific app feature is down/unusable and impacting a significant number of users.",
        True,
    ),
    (
        "Critical",
        "High severity and/or prevalence.",
        "An issue is blocking a member from continuing clinical care or is arising for several reported "
        "users.",
        True,
    ),
    (
        "Major",
        "Medium severity and/or prevalence.",
        "An issue is blocking a member's experience but not necessarily blocking clinical care or the issue "
        "is arising for a handful of users.",
        True,
    ),
    (
        "Minor",
        "Low severity and/or prevalence.",
        "An issue is an inconvenience but not blocking a member in their experience or clinical care, or the "
        "issue is arising for an individual alone.",
        True,
    ),
]

# (issue kind, field, required); fields not listed must be absent from the type.
FIELDS: dict[IssueKind, dict[str, bool]] = {
    IssueKind.BUG: {
        "summary": True,
        "description": False,
        "member_uuids": True,
        "steps_to_reproduce": True,
        "expected_result": True,
        "actual_result": True,
        "severity": True,
        "priority": True,
        "platform": True,
        "attachment_ids": False,
    },
    SR: {
        "summary": True,
        "member_uuids": True,
        "description": False,
        "request_type": True,
        "attachment_ids": False,
    },
}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


@pytest.mark.parametrize(("area", "kind", "request_type"), AREA_TABLE)
def test_every_area_of_the_table_maps_to_its_issue_and_request_type(
    policy: Policy, area: str, kind: IssueKind, request_type: str | None
) -> None:
    row = policy.area(area)
    assert row is not None
    assert (row.issue_type, row.request_type) == (kind, request_type)


def test_the_table_has_no_other_areas(policy: Policy) -> None:
    assert sorted(policy.area_names()) == sorted(a for a, _, _ in AREA_TABLE)
    assert len(policy.areas) == 8  # the guide's table has eight rows


def test_rows_keep_the_guides_wording(policy: Policy) -> None:
    recommended = [row.recommended for row in policy.areas]
    assert (
        "[System] Service Request> Uncategorized (if it does not show, leave this field blank)" in recommended
    )
    assert recommended[-1] == "Bug"


def test_project(policy: Policy) -> None:
    assert (policy.project.key, policy.project.name) == ("ESCA", "Support Escalations")


@pytest.mark.parametrize(("name", "criteria", "notes", "selectable"), PRIORITIES)
def test_priorities_quote_the_guide(
    policy: Policy, name: str, criteria: str, notes: str, selectable: bool
) -> None:
    p = policy.priority(name)
    assert p is not None
    assert (p.name, p.criteria, p.notes, p.selectable_by_support) == (name, criteria, notes, selectable)


def test_priority_order(policy: Policy) -> None:
    assert [p.name for p in policy.priorities] == [p[0] for p in PRIORITIES]


@pytest.mark.parametrize(
    ("attribute", "values"),
    [
        ("severities", ("Critical", "High", "Medium", "Low")),
        ("platforms", ("iOS", "Android", "Member Web App", "Provider Dashboard", "Health Guide Platform")),
    ],
)
def test_value_lists(policy: Policy, attribute: str, values: tuple[str, ...]) -> None:
    assert getattr(policy, attribute) == values


def test_request_types_and_the_blank_rule(policy: Policy) -> None:
    assert [(r.name, r.blank_if_unavailable) for r in policy.request_types] == [
        (OPS, False),
        (DOCS, False),
        (TECH, False),
        ("Product Feedback", False),
        ("Product / General FAQ", False),
        ("Uncategorized", True),
    ]


@pytest.mark.parametrize(
    ("kind", "field", "required"),
    [(kind, field, required) for kind, fields in FIELDS.items() for field, required in fields.items()],
)
def test_fields_per_issue_type(policy: Policy, kind: IssueKind, field: str, required: bool) -> None:
    rule = policy.issue_type(kind)
    assert rule is not None
    assert rule.fields[field].required is required


@pytest.mark.parametrize("kind", list(FIELDS))
def test_no_other_fields(policy: Policy, kind: IssueKind) -> None:
    rule = policy.issue_type(kind)
    assert rule is not None
    assert set(rule.fields) == set(FIELDS[kind])


def test_issue_type_names_reporter_and_assignee(policy: Policy) -> None:
    bug, sr = policy.issue_type(IssueKind.BUG), policy.issue_type(SR)
    assert bug is not None and sr is not None
    assert (bug.name, bug.reporter, bug.assignee) == ("Bug", "agent", "empty")
    assert sr.name == "[System] Service Request"


def test_member_uuid_counts(policy: Policy) -> None:
    bug, sr = policy.issue_type(IssueKind.BUG), policy.issue_type(SR)
    assert bug is not None and sr is not None
    assert (bug.fields["member_uuids"].min_items, bug.fields["member_uuids"].max_items) == (1, None)
    assert (sr.fields["member_uuids"].min_items, sr.fields["member_uuids"].max_items) == (1, 1)


def test_step_zero_checklist(policy: Policy) -> None:
    assert [(c.id, c.text) for c in policy.checklist] == [
        (
            "reviewed_escalations_chart",
            "Review the Escalations Chart on the Member Services Escalations Quick Guide KB.",
        ),
        (
            "escalation_necessary",
            "Confirm that escalation is necessary after exhausting all resolution options.",
        ),
        (
            "issue_type_identified",
            "Identify the correct issue type using the Escalation Type decision graph (the next step shows it).",
        ),
    ]


def test_best_practice_and_reminders(policy: Policy) -> None:
    (note,) = policy.best_practices
    assert note.id == "one_jira_per_ticket"
    assert "limit 1 JIRA ticket for 1 Zendesk ticket" in note.text
    assert "will go to ALL linked JIRA tickets" in note.text
    assert {r.id for r in policy.reminders} == {"include_uuid", "no_phi"}


def test_limits_and_labels(policy: Policy) -> None:
    assert policy.summary_max_length == 255
    assert policy.labels == ("escalink",)


def test_file_is_shipped_with_a_provenance_line() -> None:
    text = shipped_policy_path().read_text(encoding="utf-8")
    assert text.startswith("#")
    assert "restates the organisation's escalation guide" in text.split("\n\n")[0].replace("\n#", "")


def test_shipped_policy_is_cached() -> None:
    assert load_policy() is load_policy()
    assert load_policy(shipped_policy_path()) == load_policy()
