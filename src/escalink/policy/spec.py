"""Turning an accepted draft into the issue to create, in the policy's canonical names."""

from __future__ import annotations

from escalink.domain.draft import Decision, EscalationDraft
from escalink.domain.records import IssueSpec
from escalink.policy.normalize import clean_line, clean_text, normalize_member_uuid, normalize_steps
from escalink.policy.schema import Policy

#: Labels put on every issue when the policy names none.
DEFAULT_LABELS: tuple[str, ...] = ("escalink",)


def to_issue_spec(policy: Policy, draft: EscalationDraft, decision: Decision) -> IssueSpec:
    """The issue to create for an accepted draft, in the policy's canonical names.

    Raises ValueError if the decision has problems (the draft must be fixed first).
    """
    if not decision.ok or decision.issue_kind is None:
        raise ValueError("only a draft without problems can become an issue")
    rule = policy.issue_type(decision.issue_kind)
    if rule is None:
        raise ValueError(f"the policy has no {decision.issue_kind.value!r} issue type")
    takes = rule.fields.__contains__

    def choice(name: str, found: str | None) -> str | None:
        return found if takes(name) else None

    priority = policy.priority(draft.priority) if draft.priority else None
    request_type = policy.request_type(decision.request_type) if decision.request_type else None
    return IssueSpec(
        project_key=policy.project.key,
        issue_type=rule.name,
        summary=clean_line(draft.summary),
        description=clean_text(draft.description) if takes("description") else "",
        reporter_email=draft.agent_email.strip(),
        member_uuids=tuple(normalize_member_uuid(u) for u in draft.member_uuids)
        if takes("member_uuids")
        else (),
        steps_to_reproduce=tuple(normalize_steps(draft.steps_to_reproduce))
        if takes("steps_to_reproduce")
        else (),
        expected_result=clean_text(draft.expected_result) if takes("expected_result") else "",
        actual_result=clean_text(draft.actual_result) if takes("actual_result") else "",
        severity=choice("severity", policy.severity(draft.severity) if draft.severity else None),
        priority=choice("priority", priority.name if priority else None),
        platform=choice("platform", policy.platform(draft.platform) if draft.platform else None),
        request_type=choice("request_type", request_type.name if request_type else None),
        request_type_optional=bool(
            request_type and request_type.blank_if_unavailable and takes("request_type")
        ),
        labels=policy.labels or DEFAULT_LABELS,
    )
