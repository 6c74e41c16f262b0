"""Check HTTP requests (and, in tests, responses) against the vendors' official OpenAPI specs.

The specs in `specs/` are subsets of the official documents (see each file's `x-provenance`).
Validation is done with JSON Schema (openapi-schema-validator's OpenAPI 3.0 dialect, which
understands `nullable`, `readOnly` and `writeOnly`) so that every problem comes back as one
readable line, e.g. ``body.ticket.status: 'bogus' is not one of [...]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

SPEC_DIR = Path(__file__).with_name("specs")
VENDORS: dict[str, str] = {
    "zendesk": "zendesk.json",
    "jira-cloud": "jira-cloud.json",
    "jira-dc": "jira-dc.json",
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True, slots=True)
class Operation:
    """One (method, path template) of a spec, with its parameters resolved."""

    method: str
    template: str
    pointer: str
    parameters: tuple[dict[str, Any], ...]
    request_body: dict[str, Any] | None
    regex: re.Pattern[str] = field(compare=False)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _location(prefix: str, parts: Iterable[Any]) -> str:
    out = prefix
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class SpecValidator:
    """Validates requests for one vendor API against its spec subset.

    Use `SpecValidator.for_vendor("zendesk" | "jira-cloud" | "jira-dc")`; instances are cached.
    Paths are full request paths (``/rest/api/2/issue``): the spec's server base path
    (``/rest`` for Jira Data Center) is handled here.
    """

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        self.name = name
        self.spec = spec
        self.base_path = self._base_path(spec)
        self._root = {"components": spec.get("components", {}), "paths": spec["paths"]}
        self._validators: dict[tuple[str, str], Any] = {}
        ops: list[Operation] = []
        for template, item in spec["paths"].items():
            shared = [self.resolve(p) for p in item.get("parameters", [])]
            for method in _METHODS:
                if method not in item:
                    continue
                op = item[method]
                own = [self.resolve(p) for p in op.get("parameters", [])]
                keys = {(p["name"], p["in"]) for p in own}
                params = tuple(own + [p for p in shared if (p["name"], p["in"]) not in keys])
                body = self.resolve(op["requestBody"]) if "requestBody" in op else None
                ops.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        pointer=f"#/paths/{_escape(template)}/{method}",
                        parameters=params,
                        request_body=body,
                        regex=re.compile(
                            "^" + re.sub(r"\\\{[^/]+?\\\}", "([^/]+)", re.escape(template)) + "$"
                        ),
                    )
                )
        # Literal segments win over templated ones (`tickets/show_many` before `tickets/{id}`).
        self._operations = sorted(ops, key=lambda o: (o.template.count("{"), -len(o.template)))

    @classmethod
    def for_vendor(cls, name: str) -> SpecValidator:
        """The cached validator for "zendesk", "jira-cloud" or "jira-dc"."""
        return _load(name)

    @staticmethod
    def _base_path(spec: dict[str, Any]) -> str:
        servers = spec.get("servers") or [{"url": "/"}]
        url = servers[0]["url"]
        for var, meta in servers[0].get("variables", {}).items():
            url = url.replace("{" + var + "}", str(meta.get("default", "")))
        if "://" not in url:
            url = "http://host" + ("" if url.startswith("/") else "/") + url
        return urlsplit(url).path.rstrip("/")

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (repeatedly) and return the target."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    # -- matching ---------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for METHOD PATH and its raw path parameters, or None."""
        if self.base_path and not (path == self.base_path or path.startswith(self.base_path + "/")):
            return None
        local = path[len(self.base_path) :] or "/"
        for op in self._operations:
            if op.method != method.upper():
                continue
            m = op.regex.match(local)
            if m:
                names = re.findall(r"\{([^/]+?)\}", op.template)
                return op, {n: unquote(v) for n, v in zip(names, m.groups(), strict=True)}
        return None

    def _path_known(self, path: str) -> bool:
        local = path[len(self.base_path) :] if path.startswith(self.base_path) else None
        return local is not None and any(op.regex.match(local) for op in self._operations)

    # -- validation -------------------------------------------------------------------------

    def _schema_validator(self, pointer: str, write: bool) -> Any:
        key = (pointer, "w" if write else "r")
        if key not in self._validators:
            cls = OAS30WriteValidator if write else OAS30ReadValidator
            self._validators[key] = cls({**self._root, "$ref": pointer})
        return self._validators[key]

    def _schema_errors(self, pointer: str, value: Any, where: str, write: bool = True) -> list[str]:
        validator = self._schema_validator(pointer, write)
        errors: list[ValidationError] = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        return [f"{_location(where, e.absolute_path)}: {e.message}" for e in errors]

    def validate(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> list[str]:
        """Every way the request breaks the spec, one readable line each; [] when valid."""
        found = self.match(method, path)
        if found is None:
            if self._path_known(path):
                return [f"{method.upper()} is not an operation of {path} in the {self.name} spec"]
            return [f"unknown path {path} in the {self.name} spec"]
        op, path_values = found
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        query_values = parse_qs(query, keep_blank_values=True)
        errors: list[str] = []
        for index, param in enumerate(op.parameters):
            errors.extend(self._check_param(op, index, param, path_values, query_values, lowered))
        errors.extend(self._check_body(op, body, content_type or lowered.get("content-type")))
        return errors

    def validate_httpx(self, request: httpx.Request) -> list[str]:
        """`validate` for an httpx request (reads its body)."""
        raw = request.url.raw_path.decode("ascii")
        path, _, query = raw.partition("?")
        body = request.read()
        return self.validate(
            request.method, path, query, dict(request.headers), body, request.headers.get("content-type")
        )

    def validate_response(
        self, method: str, path: str, status: int, body: bytes, content_type: str | None = "application/json"
    ) -> list[str]:
        """Check a JSON response body against the documented response schema (for tests)."""
        found = self.match(method, path)
        if found is None:
            return [f"unknown operation {method.upper()} {path}"]
        op, _ = found
        responses = self.spec["paths"][op.template][op.method.lower()].get("responses", {})
        code = str(status) if str(status) in responses else ("default" if "default" in responses else None)
        if code is None:
            return [f"status {status} is not documented for {op.method} {op.template}"]
        content = self.resolve(responses[code]).get("content") or {}
        media = (content_type or "").split(";")[0].strip().lower()
        if "application/json" not in content or media != "application/json":
            return []
        try:
            value = json.loads(body)
        except ValueError:
            return ["response: body is not valid JSON"]
        pointer = f"{op.pointer}/responses/{code}/content/application~1json/schema"
        target = self.resolve(responses[code])
        if "$ref" in responses[code]:
            pointer = responses[code]["$ref"] + "/content/application~1json/schema"
        if "schema" not in target["content"]["application/json"]:
            return []
        return self._schema_errors(pointer, value, "response", write=False)

    def _check_param(
        self,
        op: Operation,
        index: int,
        param: dict[str, Any],
        path_values: Mapping[str, str],
        query_values: Mapping[str, list[str]],
        headers: Mapping[str, str],
    ) -> list[str]:
        name, where = param["name"], param["in"]
        if where == "path":
            raw: list[str] | None = [path_values[name]] if name in path_values else None
        elif where == "query":
            raw = query_values.get(name)
        elif where == "header":
            raw = [headers[name.lower()]] if name.lower() in headers else None
        else:  # cookies are not used by these APIs
            return []
        if raw is None:
            return [f"{where}.{name}: required parameter is missing"] if param.get("required") else []
        schema = self.resolve(param.get("schema", {}))
        value, problem = _coerce(
            raw, schema, explode=param.get("explode", param.get("style", "form") == "form")
        )
        if problem:
            return [f"{where}.{name}: {problem}"]
        if "schema" not in param:
            return []
        pointer = self._param_pointer(op, param, index)
        return self._schema_errors(pointer, value, f"{where}.{name}")

    def _param_pointer(self, op: Operation, param: dict[str, Any], index: int) -> str:
        # Parameters may be inline (operation- or path-level) or `$ref`s to components.
        item = self.spec["paths"][op.template]
        for base, plist in (
            (op.pointer, item[op.method.lower()].get("parameters", [])),
            (f"#/paths/{_escape(op.template)}", item.get("parameters", [])),
        ):
            for i, candidate in enumerate(plist):
                if self.resolve(candidate) is param:
                    if "$ref" in candidate:
                        return candidate["$ref"] + "/schema"
                    return f"{base}/parameters/{i}/schema"
        raise LookupError(f"parameter {param['name']} not found in {op.template}")  # pragma: no cover

    def _check_body(self, op: Operation, body: bytes, content_type: str | None) -> list[str]:
        spec_body = op.request_body
        if spec_body is None:
            return ["body: this operation takes no request body"] if body.strip() else []
        if not body:
            return ["body: request body is required"] if spec_body.get("required") else []
        content: dict[str, Any] = spec_body.get("content", {})
        media = (content_type or "").split(";")[0].strip().lower()
        chosen = _pick_media(media, content)
        if chosen is None:
            return [
                f"body: content type {media or '(none)'!r} not accepted; expected one of {sorted(content)}"
            ]
        schema = self.resolve(content[chosen].get("schema", {}))
        if media == "application/json" or media.endswith("+json"):
            try:
                value = json.loads(body)
            except ValueError as exc:
                return [f"body: not valid JSON ({exc})"]
            pointer = f"{op.pointer}/requestBody/content/{_escape(chosen)}/schema"
            ref = self.spec["paths"][op.template][op.method.lower()]["requestBody"]
            if "$ref" in ref:
                pointer = ref["$ref"] + f"/content/{_escape(chosen)}/schema"
            return self._schema_errors(pointer, value, "body")
        if media == "multipart/form-data":
            return _check_multipart(body, content_type or "", schema)
        return []  # raw uploads: any bytes are acceptable


def _pick_media(media: str, content: Mapping[str, Any]) -> str | None:
    if media in content:
        return media
    major = media.split("/")[0] + "/*"
    if media and major in content:
        return major
    return "*/*" if "*/*" in content else None


def _coerce(raw: list[str], schema: Mapping[str, Any], explode: bool) -> tuple[Any, str | None]:
    """Turn query/path/header strings into the JSON value the schema describes."""
    kind = schema.get("type")
    if kind == "array":
        values = raw if explode else [v for item in raw for v in item.split(",")]
        items = schema.get("items", {})
        out: list[Any] = []
        for value in values:
            converted, problem = _coerce([value], items if isinstance(items, Mapping) else {}, explode)
            if problem:
                return None, problem
            out.append(converted)
        return out, None
    text = raw[-1]
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", text):
            return None, f"{text!r} is not an integer"
        return int(text), None
    if kind == "number":
        try:
            return float(text), None
        except ValueError:
            return None, f"{text!r} is not a number"
    if kind == "boolean":
        if text not in ("true", "false"):
            return None, f"{text!r} is not a boolean (true/false)"
        return text == "true", None
    return text, None


def _check_multipart(body: bytes, content_type: str, schema: Mapping[str, Any]) -> list[str]:
    if "boundary=" not in content_type:
        return ["body: multipart/form-data without a boundary"]
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return ["body: not a multipart/form-data body"]
    parts = list(message.iter_parts())  # type: ignore[attr-defined]
    if not parts:
        return ["body: multipart body has no parts"]
    names = {part.get_param("name", header="content-disposition") for part in parts}
    if schema.get("type") == "object":
        missing = [n for n in schema.get("required", []) if n not in names]
        return [f"body.{n}: required multipart part is missing" for n in missing]
    # The Jira specs describe the upload as an array of files / one binary: at least one
    # part must carry a file.
    if not any(part.get_filename() for part in parts):
        return ["body: multipart body carries no file part"]
    return []


@cache
def _load(name: str) -> SpecValidator:
    if name not in VENDORS:
        raise ValueError(f"unknown vendor {name!r}; expected one of {sorted(VENDORS)}")
    spec = json.loads((SPEC_DIR / VENDORS[name]).read_text(encoding="utf-8"))
    return SpecValidator(name, spec)
