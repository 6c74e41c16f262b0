"""One small HTTP client for both vendors: retries, rate limits and error mapping.

`VendorHTTP` wraps an `httpx.Client`. It retries what is safe to retry, honours
the vendor's requested wait exactly (jitter is only ever added on top), and turns
every final failure into one of the domain errors, with a message an agent can act on.

Request and response bodies are never logged: they may carry PHI.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import stamina
import structlog

from escalink.adapters.vendor_answers import VendorProfile, error_for_response, requested_wait, unavailable
from escalink.config import Settings
from escalink.domain.errors import EscalinkError, VendorUnavailable

__all__ = ["Clock", "Jitter", "Sleep", "VendorHTTP", "VendorProfile", "uniform_jitter", "utc_now"]

log = structlog.get_logger("escalink.http")

Sleep = Callable[[float], None]
Clock = Callable[[], datetime]
Jitter = Callable[[float], float]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Statuses worth another attempt. 500 is deliberately absent: vendors answer 500
# for deterministic bugs too, and a 500 on a create may still have created the issue.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# A wait the vendor asked for that is at most this long is slept in place; a longer one fails the request
# with its retry_after (a job is then rescheduled for that moment instead of holding a worker).
GATE_SLEEP_MAX_SECONDS = 2.0
# Transport failures that prove the request never reached the vendor's application:
# the connection was not established, or no pooled connection was free to send on.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Failures after (part of) the request may have been sent: retried only when idempotent.
MAYBE_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def uniform_jitter(max_jitter: float) -> float:
    """A random extra wait in [0, max_jitter]; spreads retries of parallel workers apart."""
    return random.uniform(0.0, max_jitter) if max_jitter > 0 else 0.0  # noqa: S311 - not crypto


class _RetryableStatus(Exception):
    """Internal: an answer worth another attempt; carries the response into the backoff hook."""

    def __init__(self, response: httpx.Response):
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


@dataclass(slots=True)
class _Call:
    """Book-keeping for one logical request across its attempts."""

    method: str
    path: str
    idempotent: bool
    attempt: int = 0
    asked: float | None = None
    give_up: EscalinkError | None = None
    waited_until: datetime | None = None  # this call already slept out the vendor's wait up to here


class VendorHTTP:
    """An `httpx.Client` with the retry, rate-limit and error rules both vendors share.

    `sleep`, `clock` and `jitter` are injectable so tests can assert the exact waits.
    """

    def __init__(
        self,
        base_url: str,
        *,
        profile: VendorProfile,
        auth: httpx.Auth | None,
        timeout: float,
        max_attempts: int,
        max_retry_wait: float,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
        jitter: Jitter = uniform_jitter,
        max_jitter: float = 1.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.max_attempts = max(1, max_attempts)
        self.max_retry_wait = max_retry_wait
        self._sleep, self._clock, self._jitter = sleep, clock, jitter
        self._max_jitter, self._backoff_initial, self._backoff_max = max_jitter, backoff_initial, backoff_max
        self._host = httpx.URL(self.base_url).host
        # When the vendor last said "come back at T" (429, or 503 with Retry-After): no request of this
        # client, from any thread, goes out before T. A short wait is slept; a long one is handed back
        # as VendorUnavailable(retry_after), so a job is rescheduled instead of holding a worker.
        self._not_before: datetime | None = None
        self._gate = threading.Lock()
        self.client = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", **(headers or {})},
            # Redirects are followed by callers that expect them, so that they decide
            # whether credentials may travel to the new host.
            follow_redirects=False,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        base_url: str,
        *,
        profile: VendorProfile,
        auth: httpx.Auth,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
    ) -> VendorHTTP:
        """The timeouts and retry limits both vendors take from Settings."""
        return cls(
            base_url,
            profile=profile,
            auth=auth,
            timeout=settings.http_timeout_seconds,
            max_attempts=settings.http_max_attempts,
            max_retry_wait=settings.http_max_retry_wait_seconds,
            transport=transport,
            sleep=sleep,
            clock=clock,
        )

    def close(self) -> None:
        self.client.close()

    def is_own_host(self, url: str) -> bool:
        """Whether `url` points at the configured vendor host (the only one that gets credentials)."""
        target = httpx.URL(url)
        return not target.is_absolute_url or target.host == self._host

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """Send with retries; return any answer below 400 (3xx included), raise a domain error otherwise.

        `idempotent` defaults from the method; callers pass False for a PUT that adds
        a comment, and True for a POST that upserts (Jira remote links by globalId).
        """
        method = method.upper()
        call = _Call(
            method=method,
            path=httpx.URL(url).path,
            idempotent=method in IDEMPOTENT_METHODS if idempotent is None else idempotent,
        )
        response: httpx.Response | None = None
        try:
            # stamina drives the attempts (and honours stamina.set_active/set_testing);
            # the waiting itself happens in `_backoff` through the injectable sleep, so
            # stamina's own backoff is zero.
            for attempt in stamina.retry_context(
                on=lambda exc: self._backoff(call, exc),
                attempts=self.max_attempts,
                timeout=None,
                wait_initial=0.0,
                wait_max=0.0,
                wait_jitter=0.0,
            ):
                with attempt:
                    call.attempt = attempt.num
                    response = self._send_once(call, url, params, json, files, headers, authenticated)
        except _RetryableStatus as exc:
            raise call.give_up or error_for_response(self.profile, exc.response, call.asked) from None
        except httpx.TransportError as exc:
            raise call.give_up or self._transport_error(call, exc) from None
        assert response is not None
        if response.status_code >= 400:
            raise error_for_response(self.profile, response)
        return response

    def get_json(self, url: str, *, params: Mapping[str, Any] | None = None) -> Any:
        """GET and decode JSON; an undecodable body counts as the vendor being unavailable."""
        response = self.request("GET", url, params=params)
        try:
            return response.json()
        except ValueError:
            raise unavailable(
                self.profile, f"{self.profile.display_name} sent an unreadable answer", None
            ) from None

    def _send_once(
        self,
        call: _Call,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        files: Any,
        headers: Mapping[str, str] | None,
        authenticated: bool,
    ) -> httpx.Response:
        self._respect_gate(call)
        started = time.monotonic()
        kwargs: dict[str, Any] = {"params": params, "json": json, "files": files, "headers": headers}
        if not authenticated:
            kwargs["auth"] = None  # an explicit None disables the client's auth for this request
        # Method, path, attempt and outcome only: bodies and query strings may carry PHI.
        where = {"vendor": self.profile.key, "method": call.method, "path": call.path, "attempt": call.attempt}
        try:
            response = self.client.request(call.method, url, **kwargs)
        except httpx.TransportError as exc:
            log.warning("vendor_request_failed", **where, error=type(exc).__name__)
            raise
        log.info("vendor_request", **where, status=response.status_code,
                 elapsed_ms=round((time.monotonic() - started) * 1000))
        if response.status_code in RETRYABLE_STATUSES:
            raise _RetryableStatus(response)
        return response

    def _backoff(self, call: _Call, exc: Exception) -> bool | float:
        """stamina's hook: decide whether to try again and, if so, wait as long as needed."""
        asked: float | None = None
        if isinstance(exc, _RetryableStatus):
            response = exc.response
            asked = requested_wait(response, self._clock())
            call.asked = asked
            if asked is not None:
                until = self._clock() + timedelta(seconds=asked)
                with self._gate:
                    self._not_before = until if self._not_before is None else max(self._not_before, until)
                call.waited_until = until
            if not (call.idempotent or self._proves_not_processed(response, asked)):
                # A 500/502/504 (or a bare 503) on a create may have created the issue:
                # repeating it could file a duplicate, so the caller gets the error instead.
                return False
            if asked is not None and asked > self.max_retry_wait:
                call.give_up = unavailable(
                    self.profile,
                    f"{self.profile.display_name} asked Escalink to wait {math.ceil(asked)} seconds",
                    asked,
                )
                return False
        elif isinstance(exc, NOT_SENT_ERRORS):
            pass  # never reached the vendor: safe to repeat even a create
        elif isinstance(exc, MAYBE_SENT_ERRORS):
            if not call.idempotent:
                # A read timeout on a create says nothing about whether Jira created the
                # issue; repeating it could duplicate the issue, so it is not retried.
                return False
        else:
            return False
        if call.attempt >= self.max_attempts:
            return False  # stamina would stop anyway; do not sleep for nothing
        wait = self._wait_for(call.attempt, asked)
        log.info(
            "vendor_retry",
            vendor=self.profile.key,
            method=call.method,
            path=call.path,
            attempt=call.attempt,
            wait_seconds=round(wait, 3),
            asked_seconds=asked,
        )
        self._sleep(wait)
        return 0.0

    def _respect_gate(self, call: _Call) -> None:
        with self._gate:
            until = self._not_before
        if until is None or (call.waited_until is not None and call.waited_until >= until):
            return
        wait = (until - self._clock()).total_seconds()
        if wait <= 0:
            return
        if wait > GATE_SLEEP_MAX_SECONDS:
            raise unavailable(self.profile, f"{self.profile.display_name} asked Escalink to wait", wait)
        log.info("vendor_gate_wait", vendor=self.profile.key, method=call.method, path=call.path,
                 wait_seconds=round(wait, 3))
        self._sleep(wait)
        call.waited_until = until

    @staticmethod
    def _proves_not_processed(response: httpx.Response, asked: float | None) -> bool:
        # 429 always means "refused before processing"; a 503 that names a time to come
        # back is the rate limiter / maintenance page speaking, not a half-done request.
        return response.status_code == 429 or (response.status_code == 503 and asked is not None)

    def _wait_for(self, attempt: int, asked: float | None) -> float:
        """Never less than the vendor asked; jitter only adds, within the configured cap."""
        if asked is not None:
            room = max(0.0, self.max_retry_wait - asked)
            return asked + min(self._jitter(self._max_jitter), room)
        base = min(self._backoff_max, self._backoff_initial * 2 ** (attempt - 1))
        return min(self.max_retry_wait, base + self._jitter(self._max_jitter))

    def _transport_error(self, call: _Call, exc: httpx.TransportError) -> EscalinkError:
        name = self.profile.display_name
        if not call.idempotent and not isinstance(exc, NOT_SENT_ERRORS):
            return VendorUnavailable(
                f"{name} did not answer in time, so Escalink cannot tell whether the change was made. "
                f"Check {name} before trying again, to avoid a duplicate.",
                vendor=self.profile.key,
            )
        if isinstance(exc, httpx.TimeoutException):
            return unavailable(self.profile, f"{name} did not answer in time", None)
        return unavailable(self.profile, f"Escalink could not reach {name}", None)
