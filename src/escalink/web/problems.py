"""RFC 9457 problem+json responses, one `errors` entry per field at fault."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from escalink.domain.draft import Problem
from escalink.domain.errors import EscalinkError, VendorUnavailable
from escalink.domain.phi import FieldFinding, PhiBlocked

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    code: str
    message: str


class PhiFindingOut(BaseModel):
    field: str
    label: str
    start: int
    end: int
    score: float
    recognizer: str


class ProblemDetails(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []
    phi_findings: list[PhiFindingOut] | None = None
    redacted: dict[str, str] | None = None


def findings_out(findings: Sequence[FieldFinding]) -> list[dict[str, Any]]:
    return [{"field": f.field, "label": f.label, "start": f.start, "end": f.end, "score": round(f.score, 3),
             "recognizer": f.recognizer} for f in findings]


def problem_response(
    status: int, title: str, detail: str, problems: Sequence[Problem] = (), kind: str = "error",
    headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [{"field": p.field, "code": p.code, "message": p.message} for p in problems],
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _loc_to_field(loc: Iterable[Any]) -> str:
    parts = [p for p in loc if p not in ("body",)]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def _kebab(name: str) -> str:
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-")


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        if request.url.path.startswith("/app/"):
            from escalink.web.ui.deps import error_page

            err = EscalinkError(detail)
            err.status, err.title = exc.status_code, title
            return error_page(request, err)
        return problem_response(exc.status_code, title, detail, kind=f"http-{exc.status_code}",
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(_loc_to_field(e.get("loc", ())), str(e.get("type", "invalid")), str(e.get("msg", "")))
            for e in exc.errors()
        ]
        return problem_response(422, "The request is invalid", "Fix the fields listed in errors.", problems,
                                kind="invalid-request")

    @app.exception_handler(EscalinkError)
    async def _domain(request: Request, exc: EscalinkError) -> Response:
        if request.url.path.startswith("/app/"):
            from escalink.web.ui.deps import error_page  # the sidebar shows errors as HTML

            return error_page(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, VendorUnavailable) and exc.retry_after:
            headers = {"Retry-After": str(int(exc.retry_after + 0.999))}
        extra = None
        if isinstance(exc, PhiBlocked):
            extra = {"phi_findings": findings_out(exc.findings), "redacted": exc.redacted}
        return problem_response(exc.status, exc.title, exc.message, exc.problems, kind=_kebab(type(exc).__name__),
                                headers=headers, extra=extra)
