"""The policy file's schema: pydantic models plus the cross-checks between sections.

Every model forbids unknown keys so that a typo in a user's policy file is an
error with a line number rather than a silently ignored setting. The models are
frozen (tuples, not lists) because the shipped policy is cached and shared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from escalink.domain.draft import IssueKind
from escalink.policy.sync import SyncPolicy, sync_findings

#: A location inside the policy document, as pydantic reports it: keys and list indexes.
Loc = tuple[str | int, ...]

#: Draft fields whose presence and rules the policy governs per issue type.
GOVERNED_FIELDS: tuple[str, ...] = (
    "summary",
    "description",
    "member_uuids",
    "steps_to_reproduce",
    "expected_result",
    "actual_result",
    "severity",
    "priority",
    "platform",
    "request_type",
    "attachment_ids",
)
#: Governed fields that hold several values; only these may set min_items/max_items.
LIST_FIELDS: frozenset[str] = frozenset({"member_uuids", "steps_to_reproduce", "attachment_ids"})

#: Context flag for `Policy.model_validate`: skip the cross-checks so the caller can
#: run `cross_check` itself and place each finding on its own line of the file.
DEFER_CROSS_CHECKS = "defer_cross_checks"

JIRA_SUMMARY_LIMIT = 255


def canonical_key(text: str) -> str:
    """Comparison key for names: case and runs of whitespace do not matter."""
    return " ".join(text.split()).casefold()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Project(_Strict):
    """The Jira project escalations are created in."""

    key: str = Field(min_length=1, pattern=r"^[A-Z][A-Z0-9_]+$")
    name: str = Field(min_length=1)


class TextItem(_Strict):
    """An identified piece of guidance (checklist item, best practice)."""

    id: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    text: str = Field(min_length=1)


class Reminder(TextItem):
    """A reminder shown to agents before they escalate."""

    title: str = Field(min_length=1)


class FieldRule(_Strict):
    """How one draft field is treated for one issue type."""

    required: bool
    label: str = Field(min_length=1, description="Name shown to agents (usually the Jira field's)")
    help: str = ""
    min_items: int | None = Field(None, ge=0)
    max_items: int | None = Field(None, ge=1)


class IssueTypeRule(_Strict):
    """One Jira issue type Support may create, and the draft fields it takes."""

    kind: IssueKind
    name: str = Field(min_length=1, description="The Jira issue type name")
    reporter: Literal["agent"] | None = None
    assignee: Literal["empty"] | None = None
    fields: dict[str, FieldRule]

    def rule(self, field: str) -> FieldRule | None:
        return self.fields.get(field)


class Priority(_Strict):
    """A Jira priority with the guide's criteria for choosing it."""

    name: str = Field(min_length=1)
    criteria: str = Field(min_length=1)
    notes: str = ""
    selectable_by_support: bool = True


class RequestType(_Strict):
    """A value of the Support Escalation Type field."""

    name: str = Field(min_length=1)
    blank_if_unavailable: bool = False


class AreaRow(_Strict):
    """One row of the Escalation Types table: its areas and where they go."""

    areas: tuple[str, ...] = Field(min_length=1)
    recommended: str = Field(min_length=1, description="The table's wording of the recommendation")
    issue_type: IssueKind
    request_type: str | None = None


class Policy(_Strict):
    """The whole escalation policy; see policy.yaml for the shipped one."""

    version: Literal[1]
    project: Project
    summary_max_length: int = Field(JIRA_SUMMARY_LIMIT, ge=1, le=JIRA_SUMMARY_LIMIT)
    labels: tuple[str, ...] = ()
    reminders: tuple[Reminder, ...] = ()
    checklist: tuple[TextItem, ...] = ()
    best_practices: tuple[TextItem, ...] = ()
    issue_types: tuple[IssueTypeRule, ...] = Field(min_length=1)
    severities: tuple[str, ...] = ()
    priorities: tuple[Priority, ...] = ()
    platforms: tuple[str, ...] = ()
    request_types: tuple[RequestType, ...] = ()
    areas: tuple[AreaRow, ...] = ()
    sync: SyncPolicy = Field(default_factory=SyncPolicy)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Policy:
        if info.context and info.context.get(DEFER_CROSS_CHECKS):
            return self
        findings = cross_check(self)
        if findings:
            lines = "; ".join(f"{format_loc(loc)}: {msg}" for loc, msg in findings)
            raise ValueError(f"inconsistent policy: {lines}")
        return self

    # --- look-ups (names compared case- and whitespace-insensitively) ---------------

    def issue_type(self, kind: IssueKind) -> IssueTypeRule | None:
        return next((t for t in self.issue_types if t.kind == kind), None)

    def area(self, name: str) -> AreaRow | None:
        key = canonical_key(name)
        return next((row for row in self.areas for a in row.areas if canonical_key(a) == key), None)

    def area_names(self) -> list[str]:
        return [a for row in self.areas for a in row.areas]

    def priority(self, name: str) -> Priority | None:
        key = canonical_key(name)
        return next((p for p in self.priorities if canonical_key(p.name) == key), None)

    def request_type(self, name: str) -> RequestType | None:
        key = canonical_key(name)
        return next((r for r in self.request_types if canonical_key(r.name) == key), None)

    def severity(self, name: str) -> str | None:
        return _find(self.severities, name)

    def platform(self, name: str) -> str | None:
        return _find(self.platforms, name)

    def checklist_ids(self) -> list[str]:
        return [item.id for item in self.checklist]


def _find(values: Iterable[str], name: str) -> str | None:
    key = canonical_key(name)
    return next((v for v in values if canonical_key(v) == key), None)


def format_loc(loc: Loc) -> str:
    """`('areas', 3, 'issue_type')` -> `areas[3].issue_type`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _duplicates(items: Iterable[tuple[Loc, str]], what: str) -> Iterator[tuple[Loc, str]]:
    seen: dict[str, str] = {}
    for loc, name in items:
        key = canonical_key(name)
        if key in seen:
            yield loc, f"duplicate {what} {name!r}"
        else:
            seen[key] = name


def cross_check(policy: Policy) -> list[tuple[Loc, str]]:
    """Every inconsistency between the sections, each with the location at fault."""
    found: list[tuple[Loc, str]] = []
    found += _duplicates(
        ((("issue_types", i, "kind"), t.kind.value) for i, t in enumerate(policy.issue_types)),
        "issue type kind",
    )
    found += _duplicates(
        ((("issue_types", i, "name"), t.name) for i, t in enumerate(policy.issue_types)), "issue type name"
    )
    found += _duplicates(((("severities", i), s) for i, s in enumerate(policy.severities)), "severity")
    found += _duplicates(((("platforms", i), p) for i, p in enumerate(policy.platforms)), "platform")
    found += _duplicates(
        ((("priorities", i, "name"), p.name) for i, p in enumerate(policy.priorities)), "priority"
    )
    found += _duplicates(
        ((("request_types", i, "name"), r.name) for i, r in enumerate(policy.request_types)), "request type"
    )
    found += _duplicates(
        ((("checklist", i, "id"), c.id) for i, c in enumerate(policy.checklist)), "checklist id"
    )
    found += _duplicates(
        (
            (("areas", i, "areas", j), a)
            for i, row in enumerate(policy.areas)
            for j, a in enumerate(row.areas)
        ),
        "area",
    )
    for i, t in enumerate(policy.issue_types):
        found += _check_issue_type(policy, ("issue_types", i), t)
    if policy.priorities and not any(p.selectable_by_support for p in policy.priorities):
        found.append((("priorities",), "at least one priority must be selectable_by_support"))
    kinds = {t.kind for t in policy.issue_types}
    for i, row in enumerate(policy.areas):
        loc: Loc = ("areas", i)
        if row.issue_type not in kinds:
            found.append(((*loc, "issue_type"), f"issue type {row.issue_type.value!r} is not in issue_types"))
            continue
        takes_request_type = "request_type" in policy.issue_type(row.issue_type).fields  # type: ignore[union-attr]
        if takes_request_type and row.request_type is None:
            found.append(((*loc,), f"a {row.issue_type.value} row must name a request_type"))
        elif not takes_request_type and row.request_type is not None:
            found.append(
                ((*loc, "request_type"), f"a {row.issue_type.value} row must not name a request_type")
            )
        elif row.request_type is not None and policy.request_type(row.request_type) is None:
            found.append(
                (
                    (*loc, "request_type"),
                    f"unknown request type {row.request_type!r}; "
                    f"known: {', '.join(r.name for r in policy.request_types)}",
                )
            )
    for i, label in enumerate(policy.labels):
        if not label or any(c.isspace() for c in label):
            found.append((("labels", i), "a Jira label cannot be empty or contain spaces"))
    found += sync_findings(policy.sync)
    return found


_VALUE_LISTS = {
    "severity": "severities",
    "priority": "priorities",
    "platform": "platforms",
    "request_type": "request_types",
}


def _check_issue_type(policy: Policy, loc: Loc, t: IssueTypeRule) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    for name, rule in t.fields.items():
        floc: Loc = (*loc, "fields", name)
        if name not in GOVERNED_FIELDS:
            found.append((floc, f"unknown field {name!r}; known: {', '.join(GOVERNED_FIELDS)}"))
            continue
        if name not in LIST_FIELDS and (rule.min_items is not None or rule.max_items is not None):
            found.append((floc, f"min_items/max_items apply only to {', '.join(sorted(LIST_FIELDS))}"))
        if rule.min_items is not None and rule.max_items is not None and rule.min_items > rule.max_items:
            found.append(((*floc, "min_items"), "min_items is greater than max_items"))
        if name in _VALUE_LISTS and not getattr(policy, _VALUE_LISTS[name]):
            found.append((floc, f"the field needs at least one entry in {_VALUE_LISTS[name]}"))
    summary = t.fields.get("summary")
    if summary is None or not summary.required:
        found.append(((*loc, "fields"), "summary must be a required field (Jira requires it)"))
    return found
