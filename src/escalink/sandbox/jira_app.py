"""Emulated Jira: Cloud routes under /rest/api/3 and Data Center routes under /rest/api/2.

Cloud calls authenticate with Basic `email:api_token` and are checked against the Cloud spec;
Data Center calls use a Bearer personal access token and the DC spec (see `recorder.SpecGate`).
"""

from __future__ import annotations

import base64
import binascii
import html
import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from escalink.sandbox.inspect_routes import add_jira_inspect_routes
from escalink.sandbox.jira_people import register_people_routes
from escalink.sandbox.jira_rules import JqlError, check_create, is_adf_doc
from escalink.sandbox.jira_search import JiraSiteOptions, expansions, search_answer
from escalink.sandbox.jira_state import JiraIssue, JiraState, JiraUser, change_item, now_jira
from escalink.sandbox.jira_views import Views
from escalink.sandbox.recorder import CallRecorder, Rejection, SpecGate, add_sandbox_routes

UNAUTHENTICATED = ["You are not authenticated. Authentication required to perform this operation."]


def jira_error(
    status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"errorMessages": messages or [], "errors": errors or {}}, status_code=status)


def _not_found(what: str = "Issue does not exist or you do not have permission to see it.") -> JSONResponse:
    return jira_error(404, [what])


def authenticated_user(state: JiraState, vendor: str, headers: Mapping[str, str]) -> JiraUser | None:
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    if vendor == "jira-cloud" and scheme.lower() == "basic":
        try:
            email, _, token = base64.b64decode(credential, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return state.service_user if (email, token) == (state.cloud_email, state.cloud_api_token) else None
    if vendor == "jira-dc" and scheme.lower() == "bearer" and credential == state.dc_pat:
        return state.service_user
    return None


def _register(app: FastAPI, state: JiraState, cloud: bool, options: JiraSiteOptions) -> None:
    prefix = "/rest/api/3" if cloud else "/rest/api/2"
    vendor = "jira-cloud" if cloud else "jira-dc"

    def views(request: Request) -> Views:
        return Views(str(request.base_url), cloud)

    def me(request: Request) -> JiraUser:
        user = authenticated_user(state, vendor, {k.lower(): v for k, v in request.headers.items()})
        assert user is not None  # the gate refused unauthenticated calls already
        return user

    def text_ok(value: Any) -> bool:
        return is_adf_doc(value) if cloud else isinstance(value, str)

    @app.get(f"{prefix}/myself")
    def myself(request: Request) -> Any:
        user = views(request).user(me(request)) or {}
        # Jira reads JQL dates in this zone: the one thing a search client must know about the account.
        if options.advertise_time_zone:
            return {**user, "timeZone": options.time_zone}
        return {k: v for k, v in user.items() if k != "timeZone"}

    @app.get(f"{prefix}/serverInfo")
    def server_info(request: Request) -> Any:
        version = ("1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud") if cloud else ("10.3.1", [10, 3, 1], "Server")
        return {
            "baseUrl": str(request.base_url).rstrip("/"),
            "version": version[0],
            "versionNumbers": version[1],
            "deploymentType": version[2],
            "buildNumber": 100 if cloud else 10030001,
            "serverTime": now_jira(),
            "scmInfo": "sandbox",
            "serverTitle": "Jira",
        }

    @app.get(f"{prefix}/user/search")
    def user_search(request: Request, query: str | None = None, username: str | None = None) -> Any:
        needle = query if cloud else username
        if not needle:
            param = "query" if cloud else "username"
            return jira_error(400, [f"The '{param}' query parameter is required."])
        return [views(request).user(u) for u in state.search_users(needle)]

    @app.get(f"{prefix}/project/{{project_id_or_key}}")
    def project(request: Request, project_id_or_key: str) -> Any:
        if project_id_or_key.upper() not in ("ESCA", "10000"):
            return _not_found(f"No project could be found with key '{project_id_or_key}'.")
        v = views(request)
        return {**v.project(), "issueTypes": [v.issue_type(t) for t in ("10001", "10002")]}

    @app.get(f"{prefix}/issue/createmeta/{{project_id_or_key}}/issuetypes")
    def createmeta_types(request: Request, project_id_or_key: str) -> Any:
        if project_id_or_key.upper() not in ("ESCA", "10000"):
            return _not_found(f"No project could be found with key '{project_id_or_key}'.")
        types = [views(request).issue_type(t) for t in ("10001", "10002")]
        if cloud:
            return {"issueTypes": types, "maxResults": 50, "startAt": 0, "total": len(types)}
        return {"values": types, "maxResults": 50, "startAt": 0, "total": len(types), "isLast": True}

    @app.get(f"{prefix}/issue/createmeta/{{project_id_or_key}}/issuetypes/{{issue_type_id}}")
    def createmeta_fields(request: Request, project_id_or_key: str, issue_type_id: str) -> Any:
        if project_id_or_key.upper() not in ("ESCA", "10000") or issue_type_id not in ("10001", "10002"):
            return _not_found(f"Issue type with id '{issue_type_id}' does not exist in project.")
        with state.lock:
            metas = [views(request).field_meta(f) for f in state.screen(issue_type_id)]
        if cloud:
            return {"fields": metas, "maxResults": 50, "startAt": 0, "total": len(metas)}
        return {"values": metas, "maxResults": 50, "startAt": 0, "total": len(metas), "isLast": True}

    @app.post(f"{prefix}/issue")
    async def create_issue(request: Request) -> Any:
        body = await request.json()
        with state.lock:
            outcome = check_create(state, body, cloud)
            if (
                outcome.errors
                or outcome.messages
                or outcome.reporter is None
                or outcome.issue_type_id is None
            ):
                return jira_error(400, outcome.messages, outcome.errors)
            issue = state.create_issue(
                outcome.issue_type_id, outcome.fields, outcome.reporter, outcome.assignee
            )
        url = f"{views(request).api}/issue/{issue.id}"
        return JSONResponse({"id": issue.id, "key": issue.key, "self": url}, status_code=201)

    def find(key: str) -> JiraIssue | None:
        return state.issue(key)

    @app.get(f"{prefix}/issue/{{key}}")
    def get_issue(request: Request, key: str, fields: str | None = None, expand: str | None = None) -> Any:
        with state.lock:
            issue = find(key)
            if issue is None:
                return _not_found()
            wanted = {f.strip() for f in fields.split(",")} if fields else None
            out = views(request).issue(issue, state.screen(issue.issue_type_id), wanted)
            if "changelog" in expansions(expand):
                out["changelog"] = views(request).changelog(issue, options.cloud_changelog_histories)
            return out

    @app.post(f"{prefix}/issue/{{key}}/attachments")
    async def add_attachments(request: Request, key: str) -> Any:
        # Jira's XSRF protection refuses multipart posts without this header.
        if request.headers.get("x-atlassian-token", "").lower() != "no-check":
            return Response("XSRF check failed", status_code=403, media_type="text/plain")
        form = await request.form()
        files = [f for f in form.getlist("file") if not isinstance(f, str)]
        # Read the parts before taking the state lock: never hold it across an await.
        contents = [
            (f.filename or "file", f.content_type or "application/octet-stream", await f.read())
            for f in files
        ]
        with state.lock:
            issue = find(key)
            if issue is None:
                return _not_found()
            if not files:
                return jira_error(400, ["No attachments were found in the request (multipart field 'file')."])
            limit = state.attachment_max_bytes
            if limit is not None and any(len(data) > limit for _, _, data in contents):
                return jira_error(413, [f"The file is larger than the attachment size limit ({limit} bytes)."])
            added = []
            for filename, mime, data in contents:
                att_id = state.next_id()
                att: dict[str, Any] = {
                    "id": att_id,
                    "filename": filename,
                    "author": me(request),
                    "created": now_jira(),
                    "size": len(data),
                    "mimeType": mime,
                }
                state.attachment_data[att_id] = data
                issue.attachments.append(att)
                added.append(views(request).attachment(att))
            state.record_change(issue, me(request), [
                change_item("Attachment", "attachment", (None, None), (a["id"], a["filename"])) for a in added])
        return added

    @app.get(f"{prefix}/issue/{{key}}/remotelink")
    def list_remote_links(request: Request, key: str, globalId: str | None = None) -> Any:  # noqa: N803
        with state.lock:
            issue = find(key)
            if issue is None:
                return _not_found()
            links = [_link_json(views(request), issue, link) for link in issue.remote_links]
        if globalId is not None:
            match = [link for link in links if link.get("globalId") == globalId]
            return match[0] if match else _not_found("No remote link with that globalId.")
        return links

    @app.post(f"{prefix}/issue/{{key}}/remotelink")
    async def upsert_remote_link(request: Request, key: str) -> Any:
        body = await request.json()
        obj = body.get("object") or {}
        errors = {k: f"'{k}' is required." for k in ("title", "url") if not obj.get(k)}
        if errors:
            return jira_error(400, [], errors)
        with state.lock:
            issue = find(key)
            if issue is None:
                return _not_found()
            gid = body.get("globalId")
            existing = next((li for li in issue.remote_links if gid and li.get("globalId") == gid), None)
            if existing is not None:
                existing.update({k: v for k, v in body.items() if k != "id"})
                link, status = existing, 200
            else:
                link, status = {**body, "id": int(state.next_id())}, 201
                issue.remote_links.append(link)
                # Jira's history shows a new remote link (not an update of one), without a field id.
                state.record_change(issue, me(request), [change_item(
                    "RemoteIssueLink", None, (None, None), (str(link["id"]), f'This issue links to "{obj["title"]}"'))])
            if status == 200:
                state.touch(issue)
        return JSONResponse(
            {"id": link["id"], "self": f"{views(request).api}/issue/{issue.id}/remotelink/{link['id']}"},
            status_code=status,
        )

    @app.get(f"{prefix}/issue/{{key}}/comment")
    def list_comments(
        request: Request, key: str, startAt: int = 0, maxResults: int | None = None,  # noqa: N803
        orderBy: str = "created",  # noqa: N803
    ) -> Any:
        # Cloud pages 100 comments at most; Data Center sends all of them unless asked for fewer.
        size = min(100 if maxResults is None else maxResults, 100) if cloud else maxResults
        with state.lock:
            issue = find(key)
            if issue is None:
                return _not_found()
            ordered = issue.comments[::-1] if orderBy.startswith("-") else list(issue.comments)
            start = max(0, startAt)
            shown = ordered[start:] if size is None else ordered[start : start + max(0, size)]
            comments = [views(request).comment(issue, c) for c in shown]
            total = len(issue.comments)
        return {"comments": comments, "maxResults": total if size is None else size, "startAt": start, "total": total}

    @app.post(f"{prefix}/issue/{{key}}/comment")
    async def add_comment(request: Request, key: str) -> Any:
        body = await request.json()
        if not text_ok(body.get("body")):
            kind = "an Atlassian Document" if cloud else "a string"
            return jira_error(400, [], {"comment": f"Comment body must be {kind}."})
        with state.lock:
            issue = find(key)
            if issue is None:
                return _not_found()
            if state.fail_comments_for & {issue.id, issue.key}:
                return jira_error(500, ["Internal server error (sandbox fault switch)."])
            comment = {
                "id": state.next_id(),
                "author": me(request),
                "body": body["body"],
                "created": now_jira(),
            }
            issue.comments.append(comment)
            state.touch(issue)
            return JSONResponse(views(request).comment(issue, comment), status_code=201)

    @app.get(f"{prefix}/issue/{{key}}/properties/{{prop}}")
    def get_property(key: str, prop: str) -> Any:
        with state.lock:
            issue = find(key)
            if issue is None:
                return _not_found()
            if prop not in issue.properties:
                return _not_found(f"The property with key '{prop}' does not exist.")
            return {"key": prop, "value": issue.properties[prop]}

    @app.put(f"{prefix}/issue/{{key}}/properties/{{prop}}")
    async def put_property(key: str, prop: str, request: Request) -> Any:
        value = await request.json()
        with state.lock:
            issue = find(key)
            if issue is None:
                return _not_found()
            created = prop not in issue.properties
            issue.properties[prop] = value
        return Response(status_code=201 if created else 200)

    def search(request: Request, **query: Any) -> Any:
        try:
            return search_answer(state, views(request), options, **query)
        except JqlError as exc:
            return jira_error(400, [str(exc)])

    search_path = f"{prefix}/search/jql" if cloud else f"{prefix}/search"

    @app.get(search_path)
    def search_get(
        request: Request,
        jql: str = "",
        maxResults: int = 50,  # noqa: N803
        fields: str | None = None,
        startAt: int = 0,  # noqa: N803
        nextPageToken: str | None = None,  # noqa: N803
        expand: str | None = None,
    ) -> Any:
        names = [f for f in (fields or "").split(",") if f]
        return search(request, jql=jql, max_results=maxResults, fields=names or None, start_at=startAt,
                      page_token=nextPageToken, expand=expand)

    @app.post(search_path)
    async def search_post(request: Request) -> Any:
        body = await request.json()
        return search(
            request,
            jql=str(body.get("jql", "")),
            max_results=int(body.get("maxResults", 50)),
            fields=body.get("fields"),
            start_at=int(body.get("startAt", 0)),
            page_token=body.get("nextPageToken"),
            expand=body.get("expand"),
        )


def _link_json(v: Views, issue: JiraIssue, link: dict[str, Any]) -> dict[str, Any]:
    out = {"id": link["id"], "self": f"{v.api}/issue/{issue.id}/remotelink/{link['id']}"}
    for k in ("globalId", "application", "relationship", "object"):
        if k in link:
            out[k] = link[k]
    return out


def _spec_rejection(vendor: str, errors: list[str]) -> Rejection:
    status = 404 if any(e.startswith("unknown path") for e in errors) else 400
    return Rejection(status, {"errorMessages": errors, "errors": {}})


def create_jira_app(state: JiraState, recorder: CallRecorder, options: JiraSiteOptions | None = None) -> Any:
    """The emulator as an ASGI app (FastAPI wrapped in the spec gate).

    `options` (the account's time zone, page sizes) may be changed by the caller while the app runs.
    """
    options = options if options is not None else JiraSiteOptions()
    app = FastAPI(title="Jira sandbox", openapi_url=None, docs_url=None, redoc_url=None)
    add_sandbox_routes(app, recorder)
    add_jira_inspect_routes(app, state)
    register_people_routes(app, state)
    _register(app, state, cloud=True, options=options)
    _register(app, state, cloud=False, options=options)

    @app.get("/browse/{key}", response_class=HTMLResponse)
    def browse(key: str) -> HTMLResponse:
        """The page an issue link opens: enough to see what Escalink created."""
        issue = state.issue(key)
        if issue is None:
            return HTMLResponse("<h1>Issue does not exist</h1>", status_code=404)
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td><pre>{html.escape(json.dumps(v, indent=1))}</pre></td></tr>"
            for k, v in sorted(issue.fields.items())
        )
        files = "".join(f"<li>{html.escape(a['filename'])}</li>" for a in issue.attachments)
        links = "".join(f"<li>{html.escape(str(lk['object'].get('url')))}</li>" for lk in issue.remote_links)
        return HTMLResponse(
            f"<!doctype html><title>{html.escape(issue.key)}</title><h1>{html.escape(issue.key)} "
            f"(sandbox Jira)</h1><p>Reporter: {html.escape(issue.reporter.display_name)}</p>"
            f"<table>{rows}</table><h2>Attachments</h2><ul>{files}</ul><h2>Links</h2><ul>{links}</ul>"
        )

    @app.get("/secure/attachment/{att_id}/{name}")
    def attachment_content(att_id: str, name: str) -> Response:
        data = state.attachment_data.get(att_id)
        if data is None:
            return _not_found("Attachment not found.")
        return Response(data, media_type="application/octet-stream")

    def vendor_of(path: str) -> str | None:
        if path.startswith("/rest/api/3/"):
            return "jira-cloud"
        if path.startswith("/rest/api/2/"):
            return "jira-dc"
        return None

    def auth(vendor: str, headers: Mapping[str, str]) -> Rejection | None:
        if authenticated_user(state, vendor, headers) is None:
            return Rejection(401, {"errorMessages": UNAUTHENTICATED, "errors": {}})
        return None

    return SpecGate(app, recorder, vendor_of, auth, _spec_rejection, label="jira")
