"""Jira's create-issue rules, ADF checks and the small JQL subset the emulator understands.

Messages follow the wording Jira uses in its `{"errorMessages": [...], "errors": {...}}` answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from escalink.sandbox.jira_state import (
    ISSUE_TYPES,
    PRIORITIES,
    PROJECT,
    FieldDef,
    JiraState,
    JiraUser,
    option_id,
)


@dataclass
class CreateOutcome:
    issue_type_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    reporter: JiraUser | None = None
    assignee: JiraUser | None = None
    errors: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def is_adf_doc(value: Any) -> bool:
    """A minimal structural check of an Atlassian Document Format document."""
    if not isinstance(value, dict) or value.get("type") != "doc" or value.get("version") != 1:
        return False
    content = value.get("content")
    return isinstance(content, list) and all(_adf_node_ok(n) for n in content)


def _adf_node_ok(node: Any) -> bool:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str) or node["type"] == "doc":
        return False
    if node["type"] == "text" and not isinstance(node.get("text"), str):
        return False
    children = node.get("content", [])
    return isinstance(children, list) and all(_adf_node_ok(c) for c in children)


def adf_to_text(value: Any) -> str:
    """Plain text of an ADF document (block nodes separated by newlines)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return ""
    if value.get("type") == "text":
        return str(value.get("text", ""))
    parts = [adf_to_text(c) for c in value.get("content", []) or []]
    joiner = "\n" if value.get("type") in ("doc", "bulletList", "orderedList", "listItem") else ""
    return joiner.join(p for p in parts if p is not None)


def text_to_adf(text: str) -> dict[str, Any]:
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]} if line else {"type": "paragraph"}
        for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs if text else []}


def check_create(state: JiraState, body: dict[str, Any], cloud: bool) -> CreateOutcome:
    """Apply Jira's create rules; collect every problem like Jira does (field -> message)."""
    out = CreateOutcome()
    fields = body.get("fields")
    if not isinstance(fields, dict):
        out.messages.append("Issue must have fields set.")
        return out
    if body.get("update"):
        out.messages.append("The sandbox accepts field values in `fields` only.")
    project = fields.get("project") or {}
    if not isinstance(project, dict) or not (
        project.get("key") == PROJECT["key"] or project.get("id") == PROJECT["id"]
    ):
        out.errors["project"] = "Specify a valid project ID or key"
        return out
    issuetype = fields.get("issuetype") or {}
    type_id = None
    if isinstance(issuetype, dict):
        type_id = issuetype.get("id") if issuetype.get("id") in ISSUE_TYPES else None
        if type_id is None and "name" in issuetype:
            type_id = next((k for k, v in ISSUE_TYPES.items() if v == issuetype["name"]), None)
    if type_id is None:
        out.errors["issuetype"] = "Specify a valid issue type"
        return out
    out.issue_type_id = type_id
    screen = {f.id: f for f in state.screen(type_id)}
    for fid, value in fields.items():
        fdef = screen.get(fid)
        if fdef is None:
            out.errors[fid] = f"Field '{fid}' cannot be set. It is not on the appropriate screen, or unknown."
            continue
        problem = _check_value(state, fdef, value, cloud, out)
        if problem:
            out.errors[fid] = problem
        elif fdef.kind not in ("project", "issuetype", "user", "attachment"):
            out.fields[fid] = value
    for fdef in screen.values():
        # Jira lists Reporter as required but fills it with the calling account when omitted.
        if fdef.id == "reporter" and "reporter" not in fields:
            out.reporter = state.service_user
            continue
        if fdef.required and _empty(fields.get(fdef.id)) and fdef.id not in out.errors:
            out.errors[fdef.id] = f"{fdef.name} is required."
    return out


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _check_value(state: JiraState, fdef: FieldDef, value: Any, cloud: bool, out: CreateOutcome) -> str | None:
    if value is None:
        return None
    kind = fdef.kind
    if kind == "summary":
        if not isinstance(value, str):
            return "Operation value must be a string"
        if len(value) > 255:
            return "Summary must be less than 255 characters."
        if "\n" in value or "\r" in value:
            return "The summary is invalid because it contains newline characters."
        return None
    if kind == "text":
        if not isinstance(value, str):
            return "Operation value must be a string"
        return (
            f"{fdef.name}: The entered text is too long. It exceeds the allowed limit of 255 characters."
            if len(value) > 255
            else None
        )
    if kind == "textarea":
        if cloud:
            return (
                None
                if is_adf_doc(value)
                else "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        return None if isinstance(value, str) else "Operation value must be a string"
    if kind == "select":
        if not isinstance(value, dict):
            return f"Specify a valid 'id' or 'name' for {fdef.name}"
        chosen = value.get("value") or value.get("name")
        if "id" in value and chosen is None:
            ids = {option_id(fdef.id, o): o for o in fdef.options}
            chosen = ids.get(str(value["id"]))
            if chosen is None:
                return f"Option id '{value['id']}' is not valid"
        if chosen not in fdef.options:
            return f"Option value '{chosen}' is not valid"
        return None
    if kind == "priority":
        if not isinstance(value, dict):
            return "Specify a valid 'id' or 'name' for Priority"
        by_id = {str(i + 1): n for i, n in enumerate(PRIORITIES)}
        if value.get("name") in PRIORITIES or str(value.get("id")) in by_id:
            return None
        return "Specify a valid 'id' or 'name' for Priority"
    if kind == "labels":
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            return "Operation value must be a list of strings"
        bad = next((x for x in value if " " in x or not x), None)
        return f"The label '{bad}' contains spaces which is invalid." if bad is not None else None
    if kind == "user":
        user = _user(state, value, cloud)
        if user is None:
            return (
                f"Specify a valid value for {fdef.name.lower()}"
                if cloud
                else (f"The {fdef.name.lower()} specified is not a user.")
            )
        if fdef.id == "reporter":
            out.reporter = user
        else:
            out.assignee = user
        return None
    return None  # project, issuetype (checked earlier), attachment (ignored on create)


def _user(state: JiraState, value: Any, cloud: bool) -> JiraUser | None:
    # Cloud identifies users by accountId only (usernames were removed for privacy);
    # Data Center by username.
    if not isinstance(value, dict):
        return None
    if cloud:
        return (
            state.user_by(account_id=value["accountId"]) if isinstance(value.get("accountId"), str) else None
        )
    return state.user_by(name=value["name"]) if isinstance(value.get("name"), str) else None


# -- JQL -------------------------------------------------------------------------------------------

_CLAUSE = re.compile(
    r"""^\s*(?P<field>[\w.\[\]"'-]+)\s*(?P<op>>=|<=|=|!=|>|<|\bin\b)\s*(?P<value>"[^"]*"|'[^']*'|\([^)]*\)|\S+)\s*$""",
    re.IGNORECASE,
)


class JqlError(ValueError):
    """A query the emulator does not understand."""


def _parse_time(text: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise JqlError(f"Date value '{text}' for field 'updated' is invalid.")


def jql_filter(state: JiraState, jql: str) -> list[Any]:
    """Issues matching a JQL subset: AND of project/key/id/labels/updated clauses; ORDER BY ignored."""
    query = re.split(r"\border\s+by\b", jql or "", flags=re.IGNORECASE)[0].strip()
    issues = sorted(state.issues.values(), key=lambda i: int(i.id), reverse=True)
    if not query:
        return issues
    for clause in re.split(r"\s+and\s+", query, flags=re.IGNORECASE):
        m = _CLAUSE.match(clause)
        if not m:
            raise JqlError(f"Error in the JQL Query: unable to parse '{clause.strip()}'.")
        fld, op, raw = m.group("field").lower(), m.group("op").lower(), m.group("value").strip("\"'")
        if fld.startswith("issue.property"):
            continue  # property queries are not emulated
        values = [v.strip().strip("\"'") for v in raw.strip("()").split(",")] if op == "in" else [raw]
        if fld == "project":
            issues = (
                [i for i in issues if PROJECT["key"] in values or PROJECT["id"] in values]
                if op in ("=", "in")
                else []
            )
        elif fld in ("key", "issuekey", "id"):
            wanted = {v.upper() for v in values}
            issues = [i for i in issues if i.key in wanted or i.id in wanted]
        elif fld == "labels":
            issues = [i for i in issues if set(values) & set(i.fields.get("labels") or [])]
        elif fld == "updated" and op in (">=", ">", "<=", "<"):
            limit = _parse_time(raw)

            def keep(issue: Any, limit: datetime = limit, op: str = op) -> bool:
                stamp = datetime.strptime(issue.updated[:16], "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
                return {">=": stamp >= limit, ">": stamp > limit, "<=": stamp <= limit, "<": stamp < limit}[
                    op
                ]

            issues = [i for i in issues if keep(i)]
        else:
            raise JqlError(f"Field '{m.group('field')}' is not supported by this sandbox.")
    return issues
