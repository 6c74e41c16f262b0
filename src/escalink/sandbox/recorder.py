"""Call recording and the spec gate shared by the emulated vendors.

Every request an emulator receives passes through `SpecGate`: authentication first (as the
vendors do), then the official spec; a request that fails either is answered in the vendor's
error shape and never reaches a route, so it changes nothing. Each request is recorded.
A `FaultPlan` set on the gate may answer a request with an injected failure instead of routing it
(see `escalink.sandbox.faults`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import asdict, dataclass
from typing import Any

from escalink.sandbox.contract import SpecValidator
from escalink.sandbox.faults import FAULTS_PATH, FaultPlan, serve_control

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One request as an emulator saw it.

    `fault` is the kind of an injected failure ("429", "hang", ...); `status` is 0 when the
    connection was closed without an answer, and `time` is then when the request arrived.
    """

    seq: int
    vendor: str
    method: str
    path: str
    query: str
    status: int
    spec_errors: tuple[str, ...]
    time: float
    fault: str | None = None


class CallRecorder:
    """Thread-safe log of every request both emulators received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []

    def record(
        self,
        vendor: str,
        method: str,
        path: str,
        query: str,
        status: int,
        spec_errors: list[str],
        fault: str | None = None,
    ) -> None:
        with self._lock:
            call = RecordedCall(
                len(self._calls) + 1, vendor, method, path, query, status, tuple(spec_errors), time.time(), fault
            )
            self._calls.append(call)

    def calls(self, vendor: str | None = None) -> list[RecordedCall]:
        """Recorded calls, oldest first; `vendor` matches exactly or as a prefix ("jira")."""
        with self._lock:
            snapshot = list(self._calls)
        if vendor is None:
            return snapshot
        return [c for c in snapshot if c.vendor == vendor or c.vendor.startswith(vendor + "-")]

    def count(
        self,
        vendor: str | None = None,
        method: str | None = None,
        path: str | None = None,
        since: int = 0,
    ) -> int:
        """How many recorded calls match; `path` may end with "*" for a prefix match."""
        return len(
            [
                c
                for c in self.calls(vendor)
                if c.seq > since
                and (method is None or c.method == method.upper())
                and (path is None or c.path == path or (path.endswith("*") and c.path.startswith(path[:-1])))
            ]
        )

    def mark(self) -> int:
        """A position in the log; pass it to `since` (or `count(since=...)`)."""
        with self._lock:
            return len(self._calls)

    def since(self, mark: int, vendor: str | None = None) -> list[RecordedCall]:
        return [c for c in self.calls(vendor) if c.seq > mark]

    def sent_too_early(self, vendor: str, until: float, in_flight: float = 0.05) -> list[RecordedCall]:
        """Calls to `vendor` that arrived after a 429 had told the client to wait until `until` (epoch
        seconds: a storm's end, which its Retry-After always points at), less those that were already
        on their way when that first 429 was answered (`in_flight` seconds)."""
        calls = self.calls(vendor)
        first = next((c.time for c in calls if c.status == 429), None)
        if first is None:
            return []
        return [c for c in calls if first + in_flight < c.time < until - in_flight]

    def spec_violations(self, vendor: str | None = None) -> list[RecordedCall]:
        return [c for c in self.calls(vendor) if c.spec_errors]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def as_json(self, vendor: str | None = None) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.calls(vendor)]


@dataclass(frozen=True, slots=True)
class Rejection:
    """An answer given by the gate instead of the route."""

    status: int
    body: Any
    headers: Mapping[str, str] | None = None


# (path) -> vendor name for spec checks, or None for emulator-only routes (not spec-checked)
VendorOf = Callable[[str], str | None]
# (vendor, headers) -> Rejection when authentication fails
AuthCheck = Callable[[str, Mapping[str, str]], Rejection | None]
# (vendor, errors) -> the vendor's answer to a request that breaks its spec
SpecRejection = Callable[[str, list[str]], Rejection]


class SpecGate:
    """ASGI middleware: authenticate, validate against the spec, record, then route.

    With `faults` set, the plan may fail a request before it is routed; it also serves
    `/_sandbox/faults` to change the plan over HTTP.
    """

    def __init__(
        self,
        app: ASGIApp,
        recorder: CallRecorder,
        vendor_of: VendorOf,
        auth: AuthCheck,
        reject: SpecRejection,
        label: str,
        faults: FaultPlan | None = None,
    ) -> None:
        self.faults = faults
        self.app = app
        self.recorder = recorder
        self.vendor_of = vendor_of
        self.auth = auth
        self.reject = reject
        self.label = label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("raw_path", scope["path"].encode()).decode("latin-1").split("?")[0]
        if path.startswith("/_sandbox/"):
            if path == FAULTS_PATH and self.faults is not None:
                await serve_control(self.faults, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        method: str = scope["method"]
        vendor = self.vendor_of(path)
        errors: list[str] = []
        rejection: Rejection | None = None
        if vendor is not None:
            rejection = self.auth(vendor, headers)
            if rejection is None:
                errors = SpecValidator.for_vendor(vendor).validate(
                    method, path, query, headers, bytes(body), headers.get("content-type")
                )
                if errors:
                    rejection = self.reject(vendor, errors)
        # Decided after the checks, so a faulted call is still recorded with its spec errors,
        # and before routing, so it changes nothing in the emulator.
        fault = self.faults.decide(vendor or self.label, method, path) if self.faults is not None else None
        fault_kind = fault.kind if fault is not None else None

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Record before the client can see the answer, so a caller that counts calls
                # right after its request returns never misses this one.
                self.recorder.record(vendor or self.label, method, path, query, message["status"], errors, fault_kind)
            await send(message)

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def proceed() -> None:
            if rejection is not None:
                await _send_json(capture, rejection)
            else:
                await self.app(scope, replay, capture)

        def no_answer() -> None:
            self.recorder.record(vendor or self.label, method, path, query, 0, errors, fault_kind)

        if fault is not None and self.faults is not None:
            await self.faults.perform(fault, scope, capture, no_answer, proceed)
        else:
            await proceed()


async def _send_json(send: Send, rejection: Rejection) -> None:
    payload = json.dumps(rejection.body).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(payload)).encode()),
    ]
    for key, value in (rejection.headers or {}).items():
        headers.append((key.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": rejection.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def add_sandbox_routes(app: Any, recorder: CallRecorder) -> None:
    """`GET /_sandbox/calls[?vendor=...]` on an emulator: the recorded calls as JSON."""

    @app.get("/_sandbox/calls", include_in_schema=False)
    def sandbox_calls(vendor: str | None = None) -> list[dict[str, Any]]:
        return recorder.as_json(vendor)
