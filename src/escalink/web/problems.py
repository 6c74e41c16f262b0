"""RFC 9457 problem+json responses, one `errors` entry per field at fault."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from escalink.domain.draft import Problem
from escalink.domain.errors import EscalinkError, VendorUnavailable

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    code: str
    message: str


class ProblemDetails(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


def problem_response(
    status: int, title: str, detail: str, problems: Sequence[Problem] = (), kind: str = "error",
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [{"field": p.field, "code": p.code, "message": p.message} for p in problems],
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
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(_loc_to_field(e.get("loc", ())), str(e.get("type", "invalid")), str(e.get("msg", "")))
            for e in exc.errors()
        ]
        return problem_response(422, "The request is invalid", "Fix the fields listed in errors.", problems,
                                kind="invalid-request")

    @app.exception_handler(EscalinkError)
    async def _domain(_: Request, exc: EscalinkError) -> JSONResponse:
        headers = None
        if isinstance(exc, VendorUnavailable) and exc.retry_after:
            headers = {"Retry-After": str(int(exc.retry_after + 0.999))}
        return problem_response(exc.status, exc.title, exc.message, exc.problems, kind=_kebab(type(exc).__name__),
                                headers=headers)
