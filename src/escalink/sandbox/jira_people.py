"""Moving an issue along its workflow in the emulated Jira, as a Jira person would.

Escalink never transitions issues, so the emulator's REST routes do not cover it; tests and
the demo call `transition`, or `POST /_sandbox/issues/{key}/transition` with
`{"status": "In Progress"}` (an emulator-only route: no authentication, spec check or faults).
Commenting as a person is `inspect_routes.comment_as`. Every change moves the issue's
`updated`, as in Jira, so "updated since" searches see it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from escalink.sandbox.jira_state import JiraIssue, JiraState

# The sandbox workflow: any status may follow any other (the workflow itself is not emulated).
STATUSES = ("Open", "In Progress", "Waiting for Support", "Resolved", "Closed", "Reopened")


def transition(state: JiraState, issue: JiraIssue, status: str) -> None:
    """Move the issue to `status` (one of STATUSES); its `updated` moves too."""
    if status not in STATUSES:
        raise ValueError(f"unknown sandbox status {status!r}; expected one of {STATUSES}")
    with state.lock:
        issue.status = status
        state.touch(issue)


def register_people_routes(app: FastAPI, state: JiraState) -> None:
    """`POST /_sandbox/issues/{key}/transition`."""

    @app.post("/_sandbox/issues/{key}/transition", include_in_schema=False)
    async def people_transition(key: str, request: Request) -> Any:
        body = await request.json()
        issue = state.issue(key)
        if issue is None:
            return JSONResponse({"error": "no such issue", "issue": key}, status_code=404)
        try:
            transition(state, issue, str(body.get("status") or "") if isinstance(body, dict) else "")
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return {"key": issue.key, "status": issue.status, "updated": issue.updated}
