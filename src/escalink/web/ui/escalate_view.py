"""What the "Create issue" templates show: the area table as groups, the form's fields from the policy,
each problem beside its input, PHI findings under the field they are in, and the result of an escalation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from escalink.domain.draft import PhiAction, Problem
from escalink.domain.errors import EscalinkError
from escalink.domain.phi import FieldFinding
from escalink.domain.records import Attachment
from escalink.policy.schema import AreaRow, FieldRule, IssueTypeRule, Policy, Priority, canonical_key
from escalink.services.escalate import EscalationResult, Preview
from escalink.web.ui.escalate_form import (
    TEXT_FIELDS,
    Built,
    FormState,
    fingerprint,
    helper_state,
    outbound_texts,
    request_type_overridden,
    selectable_priorities,
    suggested_priority,
)

#: The order the guide lists a form's fields in; a field shows only if the issue type takes it.
FIELD_ORDER = ("member_uuids", "summary", "description", "steps_to_reproduce", "expected_result", "actual_result",
               "severity", "priority", "platform", "request_type", "attachment_ids")
PHI_BLOCKS = (*TEXT_FIELDS, "steps_to_reproduce", "attachment_ids")
STEP_LABELS = {"create": "Jira issue created", "remote_link": "Issue linked to the ticket"}
QUEUED_STATES = ("queued", "created")


@dataclass(frozen=True, slots=True)
class AreaGroup:
    """One row of the Escalation Types table: what it creates, and the areas that lead there."""

    index: int
    creates: str
    note: str  # the guide's wording when it says more than `creates`
    areas: tuple[str, ...]


def creates_text(policy: Policy, row: AreaRow) -> str:
    rule = policy.issue_type(row.issue_type)
    name = rule.name if rule else row.issue_type.value
    return f"{name} > {row.request_type}" if row.request_type else name


def area_groups(policy: Policy) -> list[AreaGroup]:
    out = []
    for i, row in enumerate(policy.areas):
        creates = creates_text(policy, row)
        squeezed = canonical_key(row.recommended.replace(">", " > "))
        note = "" if squeezed == canonical_key(creates) else row.recommended
        out.append(AreaGroup(i, creates, note, row.areas))
    return out


@dataclass(frozen=True, slots=True)
class PhiText:
    """A flagged text as scanned, with its findings (highlighted by the `phi_highlight` filter)."""

    field: str
    title: str
    text: str
    findings: tuple[FieldFinding, ...]
    redactable: bool


@dataclass(frozen=True, slots=True)
class AttachmentOption:
    id: int
    file_name: str
    inline: bool
    size: int
    checked: bool


@dataclass
class FormView:
    """Everything the form template and the check's out-of-band fragments need."""

    ticket_id: int
    state: FormState
    row: AreaRow
    rule: IssueTypeRule
    fields: list[tuple[str, FieldRule]]
    errors: dict[str, list[str]]  # element key ("summary", "member_uuids-1", "general") -> messages
    error_keys: list[str]
    phi: dict[str, list[PhiText]]
    findings: int
    effective_action: PhiAction
    phi_changed: bool  # "Not PHI" was given for other findings than the current ones
    submit_blocked: bool
    warnings: list[str]
    issue_type_name: str | None
    request_type: str | None
    request_type_overridden: bool
    severities: Sequence[str]
    priorities: list[Priority]
    platforms: Sequence[str]
    request_types: list[str]
    suggestion: Priority | None
    helper: tuple[str, int]
    attachments: list[AttachmentOption] | None
    attachments_error: str | None
    focus: str | None = None
    alert: str | None = None
    max_uuids: int | None = None

    def has(self, name: str) -> bool:
        return name in self.rule.fields


def _error_key(problem: Problem, built: Built, view_fields: set[str]) -> str:
    base, _, rest = problem.field.partition("[")
    if rest and base in ("member_uuids", "steps_to_reproduce"):
        rows = built.uuid_rows if base == "member_uuids" else built.step_rows
        index = int(rest.rstrip("]")) if rest.rstrip("]").isdigit() else -1
        if 0 <= index < len(rows):
            return f"{base}-{rows[index]}"
        return base
    if base in view_fields or base == "phi_override_reason":
        return base
    return "general"


def _phi_blocks(findings: Sequence[FieldFinding], texts: dict[str, str], rule: IssueTypeRule,
                file_names: dict[int, str], order: Sequence[int]) -> dict[str, list[PhiText]]:
    blocks: dict[str, list[PhiText]] = {name: [] for name in PHI_BLOCKS}
    for name in sorted({f.field for f in findings}, key=lambda n: (n.split("[")[0], len(n), n)):
        mine = tuple(sorted((f for f in findings if f.field == name), key=lambda f: (f.start, -f.end)))
        base, _, rest = name.partition("[")
        index = int(rest.rstrip("]")) if rest.rstrip("]").isdigit() else 0
        if base == "attachment_ids":
            aid = order[index] if index < len(order) else 0
            blocks[base].append(PhiText(name, "File name", file_names.get(aid, ""), mine, False))
        elif base == "steps_to_reproduce":
            blocks[base].append(PhiText(name, f"Step {index + 1}", texts.get(name, ""), mine, True))
        elif base in blocks:
            rule_ = rule.fields.get(base)
            blocks[base].append(PhiText(name, rule_.label if rule_ else base, texts.get(name, ""), mine, True))
    return blocks


def form_view(
    policy: Policy,
    ticket_id: int,
    state: FormState,
    built: Built,
    preview: Preview | None,
    *,
    show_errors: bool,
    visited: frozenset[str] | None = None,
    attachments: list[Attachment] | None = None,
    attachments_error: str | None = None,
    file_names: dict[int, str] | None = None,
    extra_findings: Sequence[FieldFinding] = (),
    extra_problems: Sequence[Problem] = (),
    alert: str | None = None,
) -> FormView:
    row = policy.area(state.area)
    assert row is not None, "the routes render the form only for a known area"
    rule = policy.issue_type(row.issue_type)
    assert rule is not None, "the policy's cross-checks guarantee every area's issue type"
    fields = [(name, rule.fields[name]) for name in FIELD_ORDER if name in rule.fields]
    view_fields = {name for name, _ in fields}
    texts = outbound_texts(preview.spec, built.draft) if preview and built.draft else {}
    findings = [*(preview.findings if preview else ()), *extra_findings]
    current = fingerprint(findings, texts)
    chosen = PhiAction(state.phi_action) if state.phi_action in set(PhiAction) else PhiAction.BLOCK
    phi_changed = chosen is PhiAction.OVERRIDE and bool(findings) and state.phi_ack != current
    effective = PhiAction.BLOCK if phi_changed else chosen

    problems = [*built.problems, *(preview.problems if preview else ()), *extra_problems]
    errors: dict[str, list[str]] = {}
    for p in problems:
        if p.code == "phi" and p.field != "phi_override_reason":
            continue  # shown as highlights under the field, with what to do about them (a reason has none)
        if p.code == "required" and p.field != "phi_override_reason" and not (
                show_errors and (visited is None or p.field.split("[", 1)[0] in visited)):
            continue  # a gap the agent has not reached yet: named on submit, not while typing elsewhere
        if p.field == "phi_override_reason" and effective is not PhiAction.OVERRIDE:
            continue
        key = _error_key(p, built, view_fields)
        if p.message not in errors.setdefault(key, []):
            errors[key].append(p.message)
    error_keys = ["general", *(name for name, _ in fields), "phi_override_reason"]
    for name in ("member_uuids", "steps_to_reproduce"):
        if name in view_fields:  # one message per list row, beside its input
            error_keys += [f"{name}-{i}" for i in range(len(getattr(state, name)))]

    reason_ok = not any(p.field == "phi_override_reason" for p in problems)
    blocked = bool(findings) and (effective is PhiAction.BLOCK or (effective is PhiAction.OVERRIDE and not reason_ok))
    decision = preview.decision if preview else None
    warnings = [w.message for w in (decision.warnings if decision else ()) if w.code != "no_area"]
    names = file_names if file_names is not None else {a.id: a.file_name for a in attachments or ()}
    order = list(dict.fromkeys(built.draft.attachment_ids)) if built.draft else []
    chosen_ids = {int(v) for v in state.attachment_ids if v.strip().isdigit()}
    options = None if attachments is None else [
        AttachmentOption(a.id, a.file_name, a.inline, a.size, a.id in chosen_ids) for a in attachments]
    member_rule = rule.fields.get("member_uuids")
    return FormView(
        ticket_id=ticket_id, state=state, row=row, rule=rule, fields=fields,
        errors=errors, error_keys=error_keys, phi=_phi_blocks(findings, texts, rule, names, order),
        findings=len(findings), effective_action=effective, phi_changed=phi_changed,
        submit_blocked=blocked, warnings=warnings,
        issue_type_name=decision.issue_type_name if decision else rule.name,
        request_type=decision.request_type if decision else row.request_type,
        request_type_overridden=request_type_overridden(policy, row, state),
        severities=policy.severities, priorities=selectable_priorities(policy), platforms=policy.platforms,
        request_types=[r.name for r in policy.request_types],
        suggestion=suggested_priority(policy, state), helper=helper_state(policy, state),
        attachments=options, attachments_error=attachments_error, alert=alert,
        max_uuids=member_rule.max_items if member_rule else None,
    )


def error_alert(exc: EscalinkError) -> str:
    return f"{exc.title}: {exc.message}"


# --- the result of an escalation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepLine:
    label: str
    ok: bool
    detail: str


def result_steps(result: EscalationResult, hold: bool) -> list[StepLine]:
    """Each step of the escalation in the agent's words, with whether it is done."""
    names = {a.id: a.file_name for a in result.attachments}
    lines: list[StepLine] = []
    if result.issue.key:
        lines.append(StepLine(f"Jira issue {result.issue.key} created", True, ""))
    for step in result.steps:
        if step.step.startswith("attachment:"):
            ident = step.step.partition(":")[2]
            name = names.get(int(ident), f"attachment {ident}") if ident.isdigit() else step.step
            label = f"Attachment {name} copied to the issue"
        elif step.step == "zendesk_update":
            label = "Internal note added, ticket put on hold" if hold else "Internal note added to the ticket"
        else:
            label = STEP_LABELS.get(step.step, step.step.replace("_", " ").capitalize())
        lines.append(StepLine(label, step.ok, step.detail))
    return lines
