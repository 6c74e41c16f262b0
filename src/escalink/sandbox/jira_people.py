"""Moving an issue along its workflow in the emulated Jira, as a Jira person would.

Escalink never transitions issues, so the emulator's REST routes do not cover it; tests and
the demo call `transition`, or `POST /_sandbox/issues/{key}/transition` with
`{"status": "In Progress"}` and optionally `"by"` (a user name or accountId) — an
emulator-only route: no authentication, spec check, faults or webhook. Commenting as a person
is `inspect_routes.comment_as`. Every change moves the issue's `updated` and is recorded in the
issue's history, as in Jira, so "updated since" searches with `expand=changelog` see it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from escalink.sandbox.jira_state import STATUS_IDS, JiraIssue, JiraState, JiraUser, change_item

# The sandbox workflow: any status may follow any other (the workflow itself is not emulated).
STATUSES = ("Open", "In Progress", "Waiting for Support", "Resolved", "Closed", "Reopened")


def transition(state: JiraState, issue: JiraIssue, status: str, by: JiraUser | None = None) -> dict[str, Any] | None:
    """Move the issue to `status` (one of STATUSES) as `by` (default: its assignee, else its reporter).

    Returns the history entry recorded; None when the issue already had that status (Jira records
    nothing then, but the issue's `updated` moves all the same).
    """
    if status not in STATUSES:
        raise ValueError(f"unknown sandbox status {status!r}; expected one of {STATUSES}")
    with state.lock:
        before = issue.status
        issue.status = status
        if before == status:
            state.touch(issue)
            return None
        item = change_item("status", "status", (STATUS_IDS.get(before), before), (STATUS_IDS.get(status), status))
        return state.record_change(issue, by or issue.assignee or issue.reporter, [item])


def register_people_routes(app: FastAPI, state: JiraState) -> None:
    """`POST /_sandbox/issues/{key}/transition`."""

    @app.post("/_sandbox/issues/{key}/transition", include_in_schema=False)
    async def people_transition(key: str, request: Request) -> Any:
        body = await request.json()
        issue = state.issue(key)
        if issue is None:
            return JSONResponse({"error": "no such issue", "issue": key}, status_code=404)
        body = body if isinstance(body, dict) else {}
        who = str(body.get("by") or "")
        by = state.user_by(account_id=who, name=who) if who else None
        if who and by is None:
            return JSONResponse({"error": "no such user", "by": who}, status_code=400)
        try:
            history = transition(state, issue, str(body.get("status") or ""), by)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return {"key": issue.key, "status": issue.status, "updated": issue.updated,
                "history_id": history["id"] if history else None}
