"""The decision engine: reads a draft against the policy and reports every problem at once.

Problem fields are EscalationDraft field names, index-qualified for list items
(`member_uuids[1]`, `steps_to_reproduce[0]`). Problem codes:

    required           a field the issue type needs is empty (also: an empty list item,
                       unconfirmed Step 0 checks on `checklist`, no `area` and no `issue_type`)
    unknown_area       `area` is not in the escalation table
    conflict           an explicit issue_type/request_type contradicts the area
    not_applicable     a field filled in that the issue type does not take
    unknown_value      severity/priority/platform/request_type/issue_type not in the policy
    not_selectable     a priority Support may not choose (Release Blocker)
    invalid_uuid       a member UUID that is not an RFC 4122 UUID
    duplicate          the same member UUID twice
    too_many           more items than the issue type takes (one UUID on a Service Request)
    too_few            fewer items than the issue type needs (other than steps)
    too_long           summary longer than the policy's maximum
    not_ordered_steps  steps out of order, or fewer steps than the policy asks for
    invalid_id         an attachment id that is not a positive integer

Warning codes: no_area, normalized (steps read out of numbered or multi-line text),
unknown_value (unknown checklist ids), duplicate (attachment ids), may_be_blank (request
type left blank when Jira does not offer it).

Steps: each entry may hold one step or several ("1. Opened app 2. Clicked settings",
one per line, bullets); they are split with `split_steps`. A single step is not an
ordered list: the shipped policy asks for at least two (what the member did, what they
saw) through `min_items` on the field.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from escalink.domain.draft import Decision, EscalationDraft, IssueKind, Problem
from escalink.policy.normalize import (
    clean_line,
    is_member_uuid,
    normalize_member_uuid,
    parse_steps,
    split_steps,
)
from escalink.policy.schema import GOVERNED_FIELDS, AreaRow, FieldRule, IssueTypeRule, Policy, canonical_key
from escalink.policy.spec import to_issue_spec  # the engine's second half, in its own module

__all__ = ["evaluate", "split_steps", "to_issue_spec"]

_FIELD_ORDER = {name: i for i, name in enumerate(EscalationDraft.model_fields)}


@dataclass
class _Report:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def problem(self, field: str, code: str, message: str) -> None:
        self.problems.append(Problem(field, code, message))

    def warn(self, field: str, code: str, message: str) -> None:
        self.warnings.append(Problem(field, code, message))


def _sorted(items: list[Problem]) -> tuple[Problem, ...]:
    # Draft field order, so a form can show problems top to bottom; stable within a field.
    return tuple(sorted(items, key=lambda p: _FIELD_ORDER.get(p.field.split("[")[0], len(_FIELD_ORDER))))


def _listing(values: Sequence[str]) -> str:
    return ", ".join(values)


def _label(policy: Policy, rule: IssueTypeRule | None, name: str) -> str:
    for t in ([rule] if rule else []) + list(policy.issue_types):
        if name in t.fields:
            return t.fields[name].label
    return name


def _resolve_area(policy: Policy, draft: EscalationDraft, out: _Report) -> AreaRow | None:
    if not draft.area:
        if draft.issue_type is None:
            out.problem("area", "required", "Choose the area of the escalation; it decides the issue type.")
        else:
            out.warn("area", "no_area", "No area chosen; the issue type was given directly.")
        return None
    row = policy.area(draft.area)
    if row is None:
        close = difflib.get_close_matches(draft.area, policy.area_names(), n=3, cutoff=0.6)
        hint = f" Did you mean: {_listing(close)}?" if close else " See the Escalation Types table."
        out.problem("area", "unknown_area", f"Unknown area {draft.area!r}.{hint}")
    return row


def _resolve_kind(
    policy: Policy, draft: EscalationDraft, row: AreaRow | None, out: _Report
) -> IssueKind | None:
    if row is not None:
        if draft.issue_type is not None and draft.issue_type != row.issue_type:
            given, wanted = policy.issue_type(draft.issue_type), policy.issue_type(row.issue_type)
            out.problem(
                "issue_type",
                "conflict",
                f"Area {draft.area!r} is escalated as {wanted.name if wanted else row.issue_type.value}, "
                f"not as {given.name if given else draft.issue_type.value}.",
            )
        return row.issue_type
    if draft.issue_type is not None and policy.issue_type(draft.issue_type) is None:
        names = _listing([t.kind.value for t in policy.issue_types])
        out.problem(
            "issue_type",
            "unknown_value",
            f"This policy has no {draft.issue_type.value!r} issue type; allowed: {names}.",
        )
        return None
    return draft.issue_type


def _resolve_request_type(
    policy: Policy, draft: EscalationDraft, row: AreaRow | None, rule: IssueTypeRule | None, out: _Report
) -> str | None:
    """The request type the issue gets: the one given, else the area's (None if not applicable)."""
    takes_it = rule is None or "request_type" in rule.fields
    from_area = policy.request_type(row.request_type) if row and row.request_type else None
    if not draft.request_type:
        return from_area.name if takes_it and from_area else None
    given = policy.request_type(draft.request_type)
    if given is None:
        allowed = _listing([r.name for r in policy.request_types])
        out.problem(
            "request_type",
            "unknown_value",
            f"Unknown support escalation type {draft.request_type!r}; allowed: {allowed}.",
        )
    elif from_area is not None and given is not from_area:
        out.problem(
            "request_type", "conflict", f"Area {draft.area!r} goes to {from_area.name!r}, not {given.name!r}."
        )
    if not takes_it:
        return None  # reported as not_applicable with the other fields
    chosen = from_area or given
    return chosen.name if chosen else None


def evaluate(policy: Policy, draft: EscalationDraft) -> Decision:
    """Everything wrong with `draft` under `policy`, and what would be created from it."""
    out = _Report()
    row = _resolve_area(policy, draft, out)
    kind = _resolve_kind(policy, draft, row, out)
    rule = policy.issue_type(kind) if kind else None
    request_type = _resolve_request_type(policy, draft, row, rule, out)
    if request_type is not None:
        rt = policy.request_type(request_type)
        if rt is not None and rt.blank_if_unavailable:
            out.warn(
                "request_type",
                "may_be_blank",
                f"{rt.name!r} is left blank if the Jira field does not offer it.",
            )
    for name in GOVERNED_FIELDS:
        _check_field(policy, draft, rule, name, request_type, out)
    _check_checklist(policy, draft, out)
    return Decision(
        issue_kind=kind if rule else None,
        issue_type_name=rule.name if rule else None,
        request_type=request_type,
        problems=_sorted(out.problems),
        warnings=_sorted(out.warnings),
    )


def _is_filled(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return bool(value)
    return value is not None


def _check_field(
    policy: Policy,
    draft: EscalationDraft,
    rule: IssueTypeRule | None,
    name: str,
    request_type: str | None,
    out: _Report,
) -> None:
    value = getattr(draft, name)
    filled = _is_filled(value)
    label = _label(policy, rule, name)
    if rule is not None and name not in rule.fields:
        if filled:
            out.problem(name, "not_applicable", f"{label} does not apply to a {rule.name}; leave it empty.")
        return
    frule = rule.fields[name] if rule else None
    if rule is not None and frule is not None:
        required, where = frule.required, f" for a {rule.name}"
    else:  # issue type unknown: require only what every issue type requires
        rules = [t.fields.get(name) for t in policy.issue_types]
        required, where = all(r is not None and r.required for r in rules), ""
    if name == "request_type":
        filled = filled or request_type is not None
    if required and not filled:
        out.problem(name, "required", f"{label} is required{where}.")
    if not filled:
        return
    check = _CHECKS.get(name)
    if check is not None:
        check(policy, draft, frule, label, out)


def _check_summary(
    policy: Policy, draft: EscalationDraft, rule: FieldRule | None, label: str, out: _Report
) -> None:
    length = len(clean_line(draft.summary))
    if length > policy.summary_max_length:
        out.problem(
            "summary",
            "too_long",
            f"{label} has {length} characters; at most {policy.summary_max_length} are allowed.",
        )


def _check_count(
    name: str, label: str, count: int, rule: FieldRule | None, out: _Report, *, check_min: bool = True
) -> None:
    if rule is None:
        return
    if rule.max_items is not None and count > rule.max_items:
        limit = "exactly one" if rule.max_items == 1 == rule.min_items else f"at most {rule.max_items}"
        out.problem(name, "too_many", f"{label} takes {limit}; {count} given.")
    if check_min and rule.min_items is not None and 0 < count < rule.min_items:
        out.problem(name, "too_few", f"{label} needs at least {rule.min_items}; {count} given.")


def _check_member_uuids(
    policy: Policy, draft: EscalationDraft, rule: FieldRule | None, label: str, out: _Report
) -> None:
    seen: dict[str, int] = {}
    for i, raw in enumerate(draft.member_uuids):
        where = f"member_uuids[{i}]"
        if not raw.strip():
            out.problem(where, "required", f"{label} entry {i + 1} is empty; fill it in or remove it.")
        elif not is_member_uuid(raw):
            out.problem(
                where,
                "invalid_uuid",
                f"{raw.strip()!r} is not a member UUID "
                "(expected the form 123e4567-e89b-42d3-a456-426614174000, one per entry).",
            )
        elif (key := normalize_member_uuid(raw)) in seen:
            out.problem(where, "duplicate", f"{label} {key} is listed twice (entry {seen[key] + 1}).")
        else:
            seen[key] = i
    _check_count("member_uuids", label, len(draft.member_uuids), rule, out)


def _check_steps(
    policy: Policy, draft: EscalationDraft, rule: FieldRule | None, label: str, out: _Report
) -> None:
    position, count, split = 0, 0, False
    misordered = False
    for i, item in enumerate(draft.steps_to_reproduce):
        where = f"steps_to_reproduce[{i}]"
        steps = parse_steps(item)
        split = split or len(steps) > 1
        if not any(text for _, text in steps):
            out.problem(
                where, "required", f"Step entry {i + 1} is empty; describe what the member did or remove it."
            )
        for number, text in steps:
            position += 1
            count += bool(text)
            if number is not None and not text:
                out.problem(
                    where, "required", f"Step {number} has no text; describe it or remove the number."
                )
            if number is not None and number != position and not misordered:
                misordered = True
                out.problem(
                    where,
                    "not_ordered_steps",
                    f"Step numbered {number} is step {position} of the list; "
                    "list the steps in the order the member took them, numbered 1, 2, 3.",
                )
    minimum = rule.min_items if rule and rule.min_items else 1
    if count and count < minimum:
        out.problem(
            "steps_to_reproduce",
            "not_ordered_steps",
            f"{label}: list at least {minimum} steps in order, from what the member did to what they "
            f"saw (e.g. 1. Opened app 2. Clicked settings 3. Saw 403 error message); {count} found.",
        )
    _check_count("steps_to_reproduce", label, count, rule, out, check_min=False)
    if split:
        out.warn("steps_to_reproduce", "normalized", f"Read {count} separate steps from the text as written.")


def _check_choice(name: str, values: Sequence[str], draft: EscalationDraft, label: str, out: _Report) -> None:
    value = getattr(draft, name)
    if not any(canonical_key(v) == canonical_key(value) for v in values):
        out.problem(name, "unknown_value", f"Unknown {label.lower()} {value!r}; allowed: {_listing(values)}.")


def _check_priority(
    policy: Policy, draft: EscalationDraft, rule: FieldRule | None, label: str, out: _Report
) -> None:
    selectable = [p.name for p in policy.priorities if p.selectable_by_support]
    priority = policy.priority(draft.priority or "")
    if priority is None:
        out.problem(
            "priority",
            "unknown_value",
            f"Unknown priority {draft.priority!r}; allowed: {_listing(selectable)}.",
        )
    elif not priority.selectable_by_support:
        note = f' "{priority.notes}"' if priority.notes else ""
        out.problem(
            "priority",
            "not_selectable",
            f"{priority.name} is not selectable by Support:{note} Choose one of: {_listing(selectable)}.",
        )


def _check_attachments(
    policy: Policy, draft: EscalationDraft, rule: FieldRule | None, label: str, out: _Report
) -> None:
    seen: set[int] = set()
    for i, ident in enumerate(draft.attachment_ids):
        if ident <= 0:
            out.problem(f"attachment_ids[{i}]", "invalid_id", f"{ident} is not a Zendesk attachment id.")
        elif ident in seen:
            out.warn(
                f"attachment_ids[{i}]", "duplicate", f"Attachment {ident} is listed twice; it is copied once."
            )
        seen.add(ident)
    _check_count("attachment_ids", label, len(draft.attachment_ids), rule, out)


def _check_checklist(policy: Policy, draft: EscalationDraft, out: _Report) -> None:
    confirmed = set(draft.checklist)
    missing = [i for i in policy.checklist_ids() if i not in confirmed]
    if missing:
        out.problem(
            "checklist",
            "required",
            f"Confirm every Step 0 check before escalating; not confirmed: {_listing(missing)}.",
        )
    unknown = sorted(confirmed - set(policy.checklist_ids()))
    if unknown:
        out.warn("checklist", "unknown_value", f"Unknown checklist ids ignored: {_listing(unknown)}.")


_Check = Callable[[Policy, EscalationDraft, FieldRule | None, str, _Report], None]
_CHECKS: dict[str, _Check] = {
    "summary": _check_summary,
    "member_uuids": _check_member_uuids,
    "steps_to_reproduce": _check_steps,
    "severity": lambda p, d, _r, label, out: _check_choice("severity", p.severities, d, label, out),
    "priority": _check_priority,
    "platform": lambda p, d, _r, label, out: _check_choice("platform", p.platforms, d, label, out),
    "attachment_ids": _check_attachments,
}
