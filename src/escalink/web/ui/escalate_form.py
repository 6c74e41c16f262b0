"""The "Create issue" form's state: read from the posted form, turned into a draft, changed by its buttons.

The wizard keeps everything in the form itself (hidden inputs for the Step 0 checks, the area and the
idempotency key), so any request can rebuild the whole state and nothing is held on the server between
requests. The agent's e-mail never comes from the form: the routes pass the session's.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from starlette.datastructures import FormData

from escalink.domain.draft import EscalationDraft, PhiAction, Problem
from escalink.domain.phi import FieldFinding
from escalink.domain.records import IssueSpec
from escalink.policy.schema import AreaRow, Policy, Priority, canonical_key
from escalink.services.phi_guard import PhiGuard

#: Plain text fields of the form, in the order the guide lists them.
TEXT_FIELDS = ("summary", "description", "expected_result", "actual_result")
CHOICE_FIELDS = ("severity", "priority", "platform", "request_type")
LIST_FIELDS = ("member_uuids", "steps_to_reproduce")
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
#: Form items that describe the area choice itself, not what the agent typed: not carried over a new area.
NOT_CARRIED = frozenset({"area", "op", "checklist", "request_type", "phi_action", "phi_ack", "phi_override_reason",
                         "visited"})


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class FormState:
    """Everything the form holds, as posted (strings, lists kept in the agent's order)."""

    checklist: list[str] = field(default_factory=list)
    area: str = ""
    request_type: str = ""
    member_uuids: list[str] = field(default_factory=list)
    summary: str = ""
    description: str = ""
    steps_to_reproduce: list[str] = field(default_factory=list)
    expected_result: str = ""
    actual_result: str = ""
    severity: str = ""
    priority: str = ""
    platform: str = ""
    attachment_ids: list[str] = field(default_factory=list)
    attachment_names: dict[int, str] = field(default_factory=dict)  # as listed when the form was drawn
    phi_action: str = PhiAction.BLOCK.value
    phi_ack: str = ""  # fingerprint of the findings the agent marked "Not PHI"
    phi_override_reason: str = ""
    priority_helper: str = ""  # "" | "q:<i>" asking question i | "yes:<i>" | "none" (see `helper_state`)
    idempotency_key: str = ""
    op: str = ""
    visited: frozenset[str] = frozenset()  # fields the agent has been in: the live check names only their gaps
    carry: list[tuple[str, str]] = field(default_factory=list)  # every posted item, for a change of area

    @classmethod
    def from_form(cls, form: FormData) -> FormState:
        def one(name: str) -> str:
            value = form.get(name)
            return value if isinstance(value, str) else ""

        def many(name: str) -> list[str]:
            return [v for v in form.getlist(name) if isinstance(v, str)]

        names: dict[int, str] = {}
        for item in many("attachment_names"):
            ident, _, name = item.partition(":")
            if ident.isdigit() and name:
                names[int(ident)] = name
        return cls(
            checklist=many("checklist"), area=one("area").strip(), request_type=one("request_type").strip(),
            member_uuids=many("member_uuids"), summary=one("summary"), description=one("description"),
            steps_to_reproduce=many("steps_to_reproduce"), expected_result=one("expected_result"),
            actual_result=one("actual_result"), severity=one("severity"), priority=one("priority"),
            platform=one("platform"), attachment_ids=many("attachment_ids"), attachment_names=names,
            phi_action=one("phi_action") or PhiAction.BLOCK.value, phi_ack=one("phi_ack"),
            phi_override_reason=one("phi_override_reason"), priority_helper=one("priority_helper"),
            idempotency_key=one("idempotency_key"), op=one("op"), visited=frozenset(one("visited").split()),
            carry=[(k, v) for k, v in form.multi_items() if isinstance(v, str) and k not in NOT_CARRIED],
        )

    def touched(self) -> bool:
        """Has the agent filled in anything yet (a fresh form shows no "required" messages)?"""
        texts = [*(getattr(self, f) for f in TEXT_FIELDS), *self.member_uuids, *self.steps_to_reproduce]
        return any(t.strip() for t in texts) or bool(self.severity or self.priority or self.platform)

    def ensure_rows(self, min_steps: int) -> None:
        """A form always shows at least one UUID input, and as many step inputs as the policy asks for
        (none when the issue type takes no steps)."""
        if not self.member_uuids:
            self.member_uuids = [""]
        while len(self.steps_to_reproduce) < min_steps:
            self.steps_to_reproduce.append("")


def checklist_missing(policy: Policy, state: FormState) -> list[str]:
    confirmed = set(state.checklist)
    return [item.id for item in policy.checklist if item.id not in confirmed]


def request_type_overridden(policy: Policy, row: AreaRow | None, state: FormState) -> bool:
    """Did the agent choose another Support Escalation Type than the one the area recommends?"""
    if row is None or row.request_type is None or not state.request_type:
        return False
    chosen = policy.request_type(state.request_type)
    return chosen is not None and canonical_key(chosen.name) != canonical_key(row.request_type)


@dataclass
class Built:
    """The draft made from the form, and where each draft list item sits in the form."""

    draft: EscalationDraft | None
    problems: list[Problem]
    uuid_rows: list[int]  # draft member_uuids[i] is the form's row uuid_rows[i]
    step_rows: list[int]


def build_draft(policy: Policy, state: FormState, ticket_id: int, agent_email: str) -> Built:
    """The draft the API would receive for this form. Empty list rows are left out (an empty trailing
    input is not an entry); fields the area's issue type does not take are not sent."""
    row = policy.area(state.area) if state.area else None
    rule = policy.issue_type(row.issue_type) if row else None
    takes = (lambda name: name in rule.fields) if rule else (lambda name: True)
    uuid_rows = [i for i, v in enumerate(state.member_uuids) if v.strip()]
    step_rows = [i for i, v in enumerate(state.steps_to_reproduce) if v.strip()]
    problems: list[Problem] = []
    attachment_ids: list[int] = []
    for raw in state.attachment_ids:
        if raw.strip().isdigit():
            attachment_ids.append(int(raw))
        else:
            problems.append(Problem("attachment_ids", "invalid_id", "An attachment choice is not a Zendesk id."))
    area: str | None = state.area or None
    issue_type = None
    if request_type_overridden(policy, row, state):
        # The agent overrode the area's recommended type: the draft names the issue type and the chosen
        # request type directly, since the area would contradict it (the engine warns that no area is set).
        area, issue_type = None, row.issue_type if row else None
    values: dict[str, object] = {
        "ticket_id": ticket_id, "agent_email": agent_email, "area": area, "issue_type": issue_type,
        "checklist": list(state.checklist),
        "phi_action": state.phi_action if state.phi_action in set(PhiAction) else PhiAction.BLOCK,
        "phi_override_reason": state.phi_override_reason.strip() or None,
    }
    for name in TEXT_FIELDS:
        if takes(name):
            values[name] = getattr(state, name)
    for name in CHOICE_FIELDS:
        if takes(name) and getattr(state, name).strip():
            values[name] = getattr(state, name).strip()
    if takes("member_uuids"):
        values["member_uuids"] = [state.member_uuids[i] for i in uuid_rows]
    if takes("steps_to_reproduce"):
        values["steps_to_reproduce"] = [state.steps_to_reproduce[i] for i in step_rows]
    if takes("attachment_ids"):
        values["attachment_ids"] = attachment_ids
    try:
        draft = EscalationDraft.model_validate(values)
    except ValidationError as exc:
        problems += [Problem(".".join(str(p) for p in e["loc"]) or "draft", str(e["type"]), str(e["msg"]))
                     for e in exc.errors()]
        return Built(None, problems, uuid_rows, step_rows)
    return Built(draft, problems, uuid_rows, step_rows)


# --- PHI ------------------------------------------------------------------------------------------------


def outbound_texts(spec: IssueSpec | None, draft: EscalationDraft) -> dict[str, str]:
    """The texts the PHI findings' positions refer to: the issue's (normalised) texts once the policy
    accepts the draft, the draft's own before that, exactly as the escalation service scans them."""
    if spec is not None:
        return PhiGuard.texts(spec, {}, [])
    out = {name: getattr(draft, name) for name in TEXT_FIELDS}
    out.update({f"steps_to_reproduce[{i}]": s for i, s in enumerate(draft.steps_to_reproduce)})
    return {k: v for k, v in out.items() if v}


def fingerprint(findings: Sequence[FieldFinding], texts: dict[str, str]) -> str:
    """Identifies the flagged passages without holding them, so "Not PHI" covers only what the agent saw."""
    parts = sorted(f"{f.field}|{f.label}|{texts.get(f.field, '')[f.start:f.end]}" for f in findings)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] if parts else ""


def redact(state: FormState, fields: Sequence[str], texts: dict[str, str], redacted: dict[str, str]) -> None:
    """Replace each named field's value by its redacted text (flagged spans become [LABEL])."""
    steps = [texts[k] for k in sorted((k for k in texts if k.startswith("steps_to_reproduce[")),
                                      key=lambda k: int(k[len("steps_to_reproduce["):-1]))]
    changed_steps = False
    for name in fields:
        if name not in redacted:
            continue
        if name in TEXT_FIELDS:
            setattr(state, name, redacted[name])
        elif name.startswith("steps_to_reproduce["):
            index = int(name[len("steps_to_reproduce["):-1])
            if index < len(steps):
                steps[index], changed_steps = redacted[name], True
    if changed_steps:
        # The positions refer to the steps as they go to Jira (numbering and multi-step lines already
        # split), so the form takes that list.
        state.steps_to_reproduce = steps


# --- buttons that change the form --------------------------------------------------------------------------


def selectable_priorities(policy: Policy) -> list[Priority]:
    """Priorities Support may choose; the others (Release Blocker) are never offered."""
    return [p for p in policy.priorities if p.selectable_by_support]


def helper_state(policy: Policy, state: FormState) -> tuple[str, int]:
    """The priority helper's place: ("", 0) not started, ("q", i) asking question i, ("yes", i) question i
    answered yes (its priority is the suggestion), ("none", 0) every question answered no."""
    verb, _, index_text = state.priority_helper.partition(":")
    count = len(selectable_priorities(policy))
    index = int(index_text) if index_text.isdigit() else -1
    if verb in ("q", "yes") and 0 <= index < count:
        return verb, index
    return ("none", 0) if verb == "none" else ("", 0)


def suggested_priority(policy: Policy, state: FormState) -> Priority | None:
    verb, index = helper_state(policy, state)
    return selectable_priorities(policy)[index] if verb == "yes" else None


def apply_op(policy: Policy, state: FormState, op: str, max_uuids: int | None) -> str | None:
    """Apply a list or choice button (not the PHI ones, which need the scan); returns the id to focus."""
    verb, _, rest = op.partition(":")
    name, _, index_text = rest.partition(":")
    index = int(index_text) if index_text.isdigit() else -1
    if name in LIST_FIELDS:
        items: list[str] = getattr(state, name)
        prefix = "uuid" if name == "member_uuids" else "step"
        if verb == "add" and (max_uuids is None or name != "member_uuids" or len(items) < max_uuids):
            items.append("")
            return f"{name}-{len(items) - 1}"
        if verb == "remove" and 0 <= index < len(items) and len(items) > 1:
            del items[index]
            return f"{name}-{min(index, len(items) - 1)}"
        if verb == "up" and 0 < index < len(items):
            items[index - 1], items[index] = items[index], items[index - 1]
            return f"{prefix}-up-{index - 1}" if index - 1 > 0 else f"{prefix}-down-0"
        if verb == "down" and 0 <= index < len(items) - 1:
            items[index + 1], items[index] = items[index], items[index + 1]
            return f"{prefix}-down-{index + 1}" if index + 1 < len(items) - 1 else f"{prefix}-up-{index + 1}"
        return None
    if verb == "priority":
        chosen = policy.priority(rest)
        if chosen is not None and chosen.selectable_by_support:
            state.priority = chosen.name
        return "priority"
    if verb == "helper":
        # The questions go from the most urgent priority down; the first "yes" is the suggestion.
        place, at = helper_state(policy, state)
        last = len(selectable_priorities(policy)) - 1
        if rest == "yes" and place == "q":
            state.priority_helper = f"yes:{at}"
            return "helper-use"
        if rest == "no" and place == "q":
            state.priority_helper = f"q:{at + 1}" if at < last else "none"
            return "helper-yes" if at < last else "helper-restart"
        state.priority_helper = "q:0"
        return "helper-yes"
    return None
