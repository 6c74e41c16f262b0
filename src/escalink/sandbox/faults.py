"""Fault injection for the emulated vendors: rate limits, server errors, hangs and dropped connections.

A `FaultPlan` is a list of `FaultRule`s shared by both emulators. `SpecGate` asks the plan about
every vendor call after reading it and before routing it, so a faulted request never reaches the
emulator: a faulted create creates nothing. The call is still authenticated and spec-checked for
the record, and recorded with the injected status and `fault` set to the rule's kind (status 0
when the connection is closed without an answer).

A rule matches on `vendor` ("zendesk", "jira-cloud", "jira-dc", "jira" for both Jira flavours, or
"*"), `method` ("*" or a verb) and `path`: a glob where "*" also crosses "/" ("/rest/api/3/issue*"
covers the create and everything under an issue), or a regular expression when it starts with "^".
Rules are tried in order; each one that matches counts the request and rolls its own dice, and the
first that fires decides. A rule's dice come from a `random.Random` seeded with the plan's seed and
the rule's position, so a run with the same seed and the same traffic fails the same requests.

Kinds: "400" (a refusal that retrying cannot change, in the vendor's error shape), "429"
(Retry-After, default 1 s; Jira adds X-RateLimit-Reset), "500", "503" (Retry-After only when
`retry_after` is set: a bare 503 tells a client nothing about whether it may repeat a create),
"hang" (wait `hang_seconds`, meant to exceed the client's timeout, then "drop" or "answer", where
"answer" lets the request through late so that it takes effect, as a slow vendor's would), and
"drop" (close the connection without a byte of answer).

Limits: `rate` (0..1), `count` (the rule applies to the first N requests it matches only) and
`seconds` (the rule is active for that long after it is added). A 429 rule with a window and no
`retry_after` asks clients to come back when the window ends, which is what `FaultPlan.storm` uses.

Control over HTTP on either emulator (the plan is shared, so either one will do):
`GET /_sandbox/faults` shows the rules with how often each matched and fired,
`POST /_sandbox/faults` replaces them with a JSON list of rules (or `{"seed": 7, "rules": [...]}`),
and `DELETE /_sandbox/faults` removes them all and ends hangs in progress. Example:

    [{"vendor": "jira-cloud", "method": "POST", "path": "/rest/api/3/issue", "kind": "429",
      "count": 1, "retry_after": 2},
     {"vendor": "zendesk", "path": "/api/v2/tickets/*/comments", "kind": "503", "rate": 0.2}]

A `--faults FILE.json` option for `escalink sandbox` would read the same JSON with
`FaultPlan.load(FILE)` and pass the plan to `start_stack(faults=...)`.

Dropping a connection needs the server's help: ASGI has no message for it, and uvicorn answers
500 to an app that returns or raises before starting a response. The emulators therefore run on
`DroppingH11Protocol`, which gives each request a scope extension that closes its connection.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import math
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from uvicorn.protocols.http.h11_impl import H11Protocol

FaultKind = Literal["400", "429", "500", "503", "hang", "drop"]
FAULTS_PATH = "/_sandbox/faults"
DROP_EXTENSION = "escalink.sandbox.drop"
DEFAULT_RETRY_AFTER = 1

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]


class FaultRule(BaseModel):
    """Which requests fail, how often and how; see the module docstring for the fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FaultKind
    vendor: str = "*"
    method: str = "*"
    path: str = "*"
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    count: int | None = Field(default=None, ge=1)
    retry_after: int | None = Field(default=None, ge=0)
    hang_seconds: float = Field(default=30.0, gt=0.0)
    then: Literal["drop", "answer"] = "drop"
    seconds: float | None = Field(default=None, gt=0.0)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value  # JSON files may say 429, not "429"

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("path")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        if value.startswith("^"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    def matches(self, vendor: str, method: str, path: str) -> bool:
        vendor_ok = self.vendor in ("*", vendor) or vendor.startswith(self.vendor + "-")
        method_ok = self.method in ("*", method.upper())
        if self.path.startswith("^"):
            path_ok = re.match(self.path, path) is not None
        else:
            path_ok = fnmatch.fnmatchcase(path, self.path)
        return vendor_ok and method_ok and path_ok


_RULES = TypeAdapter(list[FaultRule])


@dataclass(frozen=True, slots=True)
class Fault:
    """What the plan decided for one request."""

    rule: FaultRule
    vendor: str
    retry_after: int | None

    @property
    def kind(self) -> str:
        return self.rule.kind


@dataclass(slots=True)
class _Active:
    rule: FaultRule
    added: float
    rng: random.Random
    matched: int = 0
    fired: int = 0


@dataclass(slots=True)
class _Hangs:
    generation: int = 0
    waiting: int = 0


class FaultPlan:
    """Thread-safe, changeable at run time, shared by both emulators; decides which calls fail."""

    def __init__(
        self, rules: Iterable[FaultRule] = (), *, seed: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._seed = seed
        self._rules: list[_Active] = []
        self._hangs = _Hangs()
        self.set(rules)

    def set(self, rules: Iterable[FaultRule], seed: int | None = None) -> None:
        """Replace every rule (and reseed, when `seed` is given)."""
        with self._lock:
            if seed is not None:
                self._seed = seed
            now = self._clock()
            self._rules = [self._activate(rule, i, now) for i, rule in enumerate(rules)]

    def add(self, rule: FaultRule, *, first: bool = False) -> FaultRule:
        """Append a rule (or put it before all others with `first`)."""
        with self._lock:
            active = self._activate(rule, len(self._rules), self._clock())
            self._rules.insert(0 if first else len(self._rules), active)
        return rule

    def storm(self, vendor: str, seconds: float, retry_after: int | None = None) -> FaultRule:
        """Every call to `vendor` answers 429 for the next `seconds`.

        Retry-After is `retry_after` when given, otherwise the time left in the storm.
        """
        return self.add(FaultRule(kind="429", vendor=vendor, seconds=seconds, retry_after=retry_after), first=True)

    def clear(self) -> None:
        """Remove every rule and end the hangs in progress."""
        with self._lock:
            self._rules = []
        self.release()

    def release(self) -> None:
        """End the hangs in progress now (each then drops or answers as its rule says)."""
        with self._lock:
            self._hangs.generation += 1

    def _activate(self, rule: FaultRule, position: int, now: float) -> _Active:
        return _Active(rule, now, random.Random(f"{self._seed}:{position}"))  # noqa: S311 - not crypto

    @property
    def seed(self) -> int:
        return self._seed

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return [a.rule for a in self._rules]

    def snapshot(self) -> dict[str, Any]:
        """The plan as JSON: each rule with how many requests it matched and failed."""
        with self._lock:
            now = self._clock()
            rules = [
                {**a.rule.model_dump(), "matched": a.matched, "fired": a.fired, "active": self._live(a, now)}
                for a in self._rules
            ]
            return {"seed": self._seed, "rules": rules, "hanging": self._hangs.waiting}

    @staticmethod
    def _live(active: _Active, now: float) -> bool:
        rule = active.rule
        expired = rule.seconds is not None and now - active.added >= rule.seconds
        used_up = rule.count is not None and active.matched >= rule.count
        return not (expired or used_up)

    def decide(self, vendor: str, method: str, path: str) -> Fault | None:
        """The fault for this request, if any rule fires; counts the request for matching rules."""
        with self._lock:
            now = self._clock()
            for active in self._rules:
                rule = active.rule
                if not (self._live(active, now) and rule.matches(vendor, method, path)):
                    continue
                active.matched += 1
                if rule.rate >= 1.0 or active.rng.random() < rule.rate:
                    active.fired += 1
                    return Fault(rule, vendor, self._retry_after(active, now))
        return None

    @staticmethod
    def _retry_after(active: _Active, now: float) -> int | None:
        rule = active.rule
        if rule.retry_after is not None or rule.kind != "429":
            return rule.retry_after
        if rule.seconds is not None:
            return max(1, math.ceil(rule.seconds - (now - active.added)))
        return DEFAULT_RETRY_AFTER

    async def hang(self, seconds: float) -> None:
        """Wait `seconds`, or less if `release()` or `clear()` is called meanwhile."""
        with self._lock:
            generation = self._hangs.generation
            self._hangs.waiting += 1
        deadline = time.monotonic() + seconds
        try:
            # Polling keeps the plan usable from both emulators' event loops (and from tests'
            # threads) without a per-loop primitive; 20 ms is far below any client timeout.
            while (left := deadline - time.monotonic()) > 0 and self._hangs.generation == generation:
                await asyncio.sleep(min(0.02, left))
        finally:
            with self._lock:
                self._hangs.waiting -= 1

    async def perform(
        self,
        fault: Fault,
        scope: MutableMapping[str, Any],
        send: Send,
        no_answer: Callable[[], None],
        proceed: Callable[[], Awaitable[None]],
    ) -> None:
        """Act out `fault`: answer it, or hang then drop (calling `no_answer` to record that) or
        `proceed` (what the gate would have done without a fault)."""
        if fault.kind == "hang":
            if fault.rule.then == "answer":
                await self.hang(fault.rule.hang_seconds)
                await proceed()
                return
            no_answer()
            await self.hang(fault.rule.hang_seconds)
            await drop_connection(scope)
        elif fault.kind == "drop":
            no_answer()
            await drop_connection(scope)
        else:
            status, headers, payload = fault_answer(fault, datetime.now(UTC))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})

    @staticmethod
    def parse(data: Any) -> tuple[list[FaultRule], int | None]:
        """Rules (and a seed, if given) from a JSON list of rules or `{"seed": ..., "rules": [...]}`."""
        seed: int | None = None
        if isinstance(data, dict):
            raw_seed = data.get("seed")
            if raw_seed is not None and not isinstance(raw_seed, int):
                raise ValueError("seed must be an integer")
            seed, data = raw_seed, data.get("rules", [])
        return _RULES.validate_python(data), seed

    @classmethod
    def load(cls, path: str | Path) -> FaultPlan:
        """A plan from a JSON file (the format `POST /_sandbox/faults` takes)."""
        rules, seed = cls.parse(json.loads(Path(path).read_text(encoding="utf-8")))
        return cls(rules, seed=seed or 0)


def fault_answer(fault: Fault, now: datetime) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of an injected 400/429/500/503, in the vendor's own shape."""
    status = int(fault.kind)
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if fault.vendor.startswith("jira"):
        message = {400: "The request was refused (sandbox fault).", 429: "Rate limit exceeded.",
                   500: "Internal server error.", 503: "Service unavailable."}[status]
        body: Any = {"errorMessages": [message], "errors": {}}
        if status == 429:
            # Atlassian documents X-RateLimit-Reset as request time plus Retry-After, in the
            # minute-precision format yyyy-MM-ddTHH:mmZ; formatting truncates the seconds.
            reset = now + timedelta(seconds=fault.retry_after or 0)
            headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%MZ")
            headers["X-RateLimit-Remaining"] = "0"
            headers["RateLimit-Reason"] = "jira-burst-based"
    elif status == 429:
        # Zendesk's documented 429 example carries a plain sentence as text/html, not JSON.
        payload = b"Number of allowed API requests per minute exceeded"
        return status, _headers(headers, "text/html; charset=utf-8", payload), payload
    elif status == 400:
        body = {"error": "RecordInvalid", "description": "Record validation errors",
                "details": {"base": [{"description": "Refused (sandbox fault)."}]}}
    elif status == 500:
        body = {"error": "InternalServerError", "description": "Something went wrong on our end."}
    else:
        body = {"error": "ServiceUnavailable", "description": "Service temporarily unavailable."}
    payload = json.dumps(body).encode()
    return status, _headers(headers, "application/json; charset=utf-8", payload), payload


def _headers(extra: dict[str, str], content_type: str, payload: bytes) -> list[tuple[bytes, bytes]]:
    pairs = {"content-type": content_type, "content-length": str(len(payload)), **extra}
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in pairs.items()]


class ConnectionDropped(ConnectionError):
    """Raised where the server offers no way to drop a connection (an in-process test client)."""


async def drop_connection(scope: MutableMapping[str, Any]) -> None:
    """Close the request's connection without answering."""
    drop = scope.get("extensions", {}).get(DROP_EXTENSION)
    if drop is None:
        raise ConnectionDropped("the sandbox dropped this connection")
    drop()
    # Let the loop deliver connection_lost before the app returns, so uvicorn sees a client
    # that went away rather than an app that never answered (which it would answer with 500).
    await asyncio.sleep(0.01)


class DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol; each request's scope can close its connection (`DROP_EXTENSION`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[DROP_EXTENSION] = self._drop
            await inner(scope, receive, send)

        self.app = app

    def _drop(self) -> None:
        self.transport.close()


async def serve_control(plan: FaultPlan, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    """`GET`, `POST` (replace) and `DELETE` on `/_sandbox/faults`."""
    method = scope["method"]
    status: int = 405
    body: Any = {"error": "MethodNotAllowed", "allowed": ["GET", "POST", "DELETE"]}
    if method == "GET":
        status, body = 200, plan.snapshot()
    elif method == "DELETE":
        plan.clear()
        status, body = 204, None
    elif method == "POST":
        status, body = _replace(plan, await _read_body(receive))
    payload = b"" if body is None else json.dumps(body).encode()
    headers = _headers({}, "application/json", payload) if payload else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _replace(plan: FaultPlan, raw: bytes) -> tuple[int, Any]:
    try:
        rules, seed = FaultPlan.parse(json.loads(raw or b"[]"))
    except ValidationError as exc:
        details = exc.errors(include_url=False, include_context=False, include_input=False)
        return 400, {"error": "InvalidFaults", "details": details}
    except ValueError as exc:  # malformed JSON, or a seed that is not a number
        return 400, {"error": "InvalidFaults", "details": str(exc)}
    plan.set(rules, seed)
    return 200, plan.snapshot()


async def _read_body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        body.extend(message.get("body", b""))
        if not message.get("more_body"):
            return bytes(body)
