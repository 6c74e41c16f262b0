"""JSON shapes of the emulated Jira, per API flavour (Cloud v3 / Data Center v2)."""

from __future__ import annotations

from typing import Any

from escalink.sandbox.jira_rules import adf_to_text, text_to_adf
from escalink.sandbox.jira_state import (
    CUSTOM_TYPES,
    ISSUE_TYPES,
    PRIORITIES,
    PROJECT,
    STATUS_IDS,
    FieldDef,
    JiraIssue,
    JiraUser,
    option_id,
)

_SYSTEM_SCHEMA: dict[str, dict[str, Any]] = {
    "project": {"type": "project", "system": "project"},
    "issuetype": {"type": "issuetype", "system": "issuetype"},
    "summary": {"type": "string", "system": "summary"},
    "description": {"type": "string", "system": "description"},
    "reporter": {"type": "user", "system": "reporter"},
    "assignee": {"type": "user", "system": "assignee"},
    "priority": {"type": "priority", "system": "priority"},
    "labels": {"type": "array", "items": "string", "system": "labels"},
    "attachment": {"type": "array", "items": "attachment", "system": "attachment"},
}


class Views:
    """Renders state objects for one flavour; `api` is "3" (Cloud) or "2" (Data Center)."""

    def __init__(self, base_url: str, cloud: bool) -> None:
        self.base = base_url.rstrip("/")
        self.cloud = cloud
        self.api = f"{self.base}/rest/api/{'3' if cloud else '2'}"

    def user(self, user: JiraUser | None) -> dict[str, Any] | None:
        if user is None:
            return None
        if self.cloud:
            return {
                "self": f"{self.api}/user?accountId={user.account_id}",
                "accountId": user.account_id,
                "accountType": "atlassian",
                "emailAddress": user.email,
                "displayName": user.display_name,
                "active": user.active,
                "timeZone": "UTC",
            }
        return {
            "self": f"{self.api}/user?username={user.name}",
            "name": user.name,
            "key": user.key,
            "emailAddress": user.email,
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": "UTC",
        }

    def project(self) -> dict[str, Any]:
        return {
            "self": f"{self.api}/project/{PROJECT['id']}",
            "id": PROJECT["id"],
            "key": PROJECT["key"],
            "name": PROJECT["name"],
            "projectTypeKey": "software",
        }

    def issue_type(self, type_id: str) -> dict[str, Any]:
        return {
            "self": f"{self.api}/issuetype/{type_id}",
            "id": type_id,
            "name": ISSUE_TYPES[type_id],
            "description": "",
            "iconUrl": f"{self.base}/images/icons/issuetypes/{type_id}.svg",
            "subtask": False,
        }

    def priority(self, name: str) -> dict[str, Any]:
        pid = str(PRIORITIES.index(name) + 1)
        return {
            "self": f"{self.api}/priority/{pid}",
            "id": pid,
            "name": name,
            "iconUrl": f"{self.base}/images/icons/priorities/{pid}.svg",
        }

    def field_meta(self, fdef: FieldDef) -> dict[str, Any]:
        if fdef.id in _SYSTEM_SCHEMA:
            schema = dict(_SYSTEM_SCHEMA[fdef.id])
        else:
            schema = {
                "type": "option" if fdef.kind == "select" else "string",
                "custom": CUSTOM_TYPES[fdef.kind],
                "customId": fdef.custom_id,
            }
        meta: dict[str, Any] = {
            "required": fdef.required,
            "schema": schema,
            "name": fdef.name,
            "fieldId": fdef.id,
            "hasDefaultValue": fdef.kind == "priority",
            "operations": ["add", "set", "remove"]
            if fdef.kind == "labels"
            else ([] if fdef.kind == "attachment" else ["set"]),
        }
        if self.cloud:
            meta["key"] = fdef.id
        if fdef.kind == "select":
            meta["allowedValues"] = [
                {
                    "self": f"{self.api}/customFieldOption/{option_id(fdef.id, o)}",
                    "value": o,
                    "id": option_id(fdef.id, o),
                }
                for o in fdef.options
            ]
        elif fdef.kind == "priority":
            meta["allowedValues"] = [self.priority(p) for p in fdef.options]
            meta["defaultValue"] = self.priority("Minor")
        elif fdef.id == "project":
            meta["allowedValues"] = [self.project()]
        elif fdef.kind == "user":
            param = "query" if self.cloud else "username"
            meta["autoCompleteUrl"] = f"{self.api}/user/search?{param}="
        return meta

    def text(self, value: Any) -> Any:
        """A long-text value as this flavour shows it (ADF on v3, a string on v2)."""
        if value is None:
            return None
        if self.cloud:
            return value if isinstance(value, dict) else text_to_adf(str(value))
        return adf_to_text(value)

    def attachment(self, att: dict[str, Any]) -> dict[str, Any]:
        return {
            "self": f"{self.api}/attachment/{att['id']}",
            "id": att["id"],
            "filename": att["filename"],
            "author": self.user(att["author"]),
            "created": att["created"],
            "size": att["size"],
            "mimeType": att["mimeType"],
            "content": f"{self.base}/secure/attachment/{att['id']}/{att['filename']}",
        }

    def comment(self, issue: JiraIssue, c: dict[str, Any]) -> dict[str, Any]:
        return {
            "self": f"{self.api}/issue/{issue.id}/comment/{c['id']}",
            "id": c["id"],
            "author": self.user(c["author"]),
            "updateAuthor": self.user(c["author"]),
            "body": self.text(c["body"]),
            "created": c["created"],
            "updated": c["created"],
        }

    def changelog(self, issue: JiraIssue, cap: int | None = None) -> dict[str, Any]:
        """The `changelog` of an issue expanded with it.

        Cloud sends the most recent histories, newest first, at most `cap` of them; Data Center
        all of them, oldest first. Data Center items carry no `fieldId`. Unset values are left out
        rather than sent as null: both specs type them as plain strings.
        """
        ordered = issue.histories[::-1] if self.cloud else list(issue.histories)
        shown = ordered if cap is None or not self.cloud else ordered[:cap]
        histories = []
        for h in shown:
            items = [
                {k: v for k, v in item.items() if v is not None and (self.cloud or k != "fieldId")}
                for item in h["items"]
            ]
            histories.append({"id": h["id"], "author": self.user(h["author"]), "created": h["created"],
                              "items": items})
        return {"startAt": 0, "maxResults": len(shown), "total": len(issue.histories), "histories": histories}

    def issue(
        self, issue: JiraIssue, screen: list[FieldDef], wanted: set[str] | None = None
    ) -> dict[str, Any]:
        status_cat = {"id": 2, "key": "new", "name": "To Do", "colorName": "blue-gray"}
        fields: dict[str, Any] = {
            "summary": issue.fields.get("summary"),
            "status": {
                "self": f"{self.api}/status/{STATUS_IDS.get(issue.status, '1')}",
                "id": STATUS_IDS.get(issue.status, "1"),
                "name": issue.status,
                "statusCategory": status_cat,
            },
            "priority": self.priority(_priority_name(issue.fields.get("priority"))),
            "assignee": self.user(issue.assignee),
            "reporter": self.user(issue.reporter),
            "created": issue.created,
            "updated": issue.updated,
            "description": self.text(issue.fields.get("description")),
            "labels": list(issue.fields.get("labels") or []),
            "issuetype": self.issue_type(issue.issue_type_id),
            "project": self.project(),
            "attachment": [self.attachment(a) for a in issue.attachments],
        }
        for fdef in screen:
            if not fdef.id.startswith("customfield_"):
                continue
            value = issue.fields.get(fdef.id)
            if fdef.kind == "select" and isinstance(value, dict):
                chosen = value.get("value") or next(
                    (o for o in fdef.options if option_id(fdef.id, o) == str(value.get("id"))), None
                )
                value = (
                    {
                        "self": f"{self.api}/customFieldOption/{option_id(fdef.id, chosen)}",
                        "value": chosen,
                        "id": option_id(fdef.id, chosen),
                    }
                    if chosen
                    else None
                )
            elif fdef.kind == "textarea":
                value = self.text(value)
            fields[fdef.id] = value
        if wanted and "*all" not in wanted and "*navigable" not in wanted:
            fields = {k: v for k, v in fields.items() if k in wanted}
        return {
            "expand": "",
            "id": issue.id,
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": fields,
        }


def _priority_name(value: Any) -> str:
    if isinstance(value, dict):
        if value.get("name") in PRIORITIES:
            return str(value["name"])
        if str(value.get("id")).isdigit() and 1 <= int(value["id"]) <= len(PRIORITIES):
            return PRIORITIES[int(value["id"]) - 1]
    return "Minor"  # the scheme's default
