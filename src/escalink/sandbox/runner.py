"""Run ASGI apps (the emulators, or Escalink itself) on loopback in a background thread."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn

from escalink.sandbox.faults import DroppingH11Protocol, FaultPlan
from escalink.sandbox.jira_app import create_jira_app
from escalink.sandbox.jira_state import JiraState
from escalink.sandbox.recorder import CallRecorder
from escalink.sandbox.seed import Seed, apply_seed, load_seed
from escalink.sandbox.zendesk_app import create_zendesk_app
from escalink.sandbox.zendesk_state import ZendeskState

# Shared secrets for webhooks between the sandbox vendors and Escalink; fresh per process.
WEBHOOK_SECRETS: dict[str, str] = {
    "zendesk": secrets.token_urlsafe(24),
    "jira": secrets.token_urlsafe(24),
}


class ServerThread:
    """Serve an ASGI app with uvicorn on 127.0.0.1:PORT (0 = a free port) until `stop()`."""

    def __init__(
        self,
        app: Any,
        port: int = 0,
        host: str = "127.0.0.1",
        timeout: float = 10.0,
        http: type[asyncio.Protocol] | str = "auto",
        lifespan: Literal["auto", "on", "off"] = "off",
    ) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False, http=http)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"sandbox-{self.port}", daemon=True)
        self._error: BaseException | None = None
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} failed to start") from self._error
            if time.monotonic() > deadline:
                raise TimeoutError(f"server on port {self.port} did not start within {timeout}s")
            time.sleep(0.01)

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # noqa: BLE001 - surfaced to the starting thread
            self._error = exc
            raise

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Emulators:
    """Both emulated vendors, running; credentials are the ones Escalink must use.

    `faults` is the one fault plan both emulators follow (empty unless given or changed).
    """

    zendesk_url: str
    jira_url: str
    zendesk_email: str
    zendesk_api_token: str
    jira_cloud_email: str
    jira_cloud_api_token: str
    jira_dc_pat: str
    recorder: CallRecorder
    zendesk_state: ZendeskState
    jira_state: JiraState
    seed: Seed
    webhook_secrets: dict[str, str] = field(default_factory=lambda: dict(WEBHOOK_SECRETS))
    servers: list[ServerThread] = field(default_factory=list)
    faults: FaultPlan = field(default_factory=FaultPlan)

    def stop(self) -> None:
        self.faults.release()  # a request hanging on purpose would hold up the server's shutdown
        for server in self.servers:
            server.stop()

    def __enter__(self) -> Emulators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulators(
    zendesk_port: int = 0, jira_port: int = 0, seed: Seed | None = None, faults: FaultPlan | None = None
) -> Emulators:
    """Start seeded Zendesk and Jira emulators on loopback sharing one call recorder and fault plan."""
    seed = seed or load_seed()
    faults = faults if faults is not None else FaultPlan()
    recorder = CallRecorder()
    zendesk_state = ZendeskState()
    jira_state = JiraState()
    apply_seed(seed, zendesk_state, jira_state)
    zendesk_app, jira_app = create_zendesk_app(zendesk_state, recorder), create_jira_app(jira_state, recorder)
    zendesk_app.faults = jira_app.faults = faults
    zendesk = ServerThread(zendesk_app, zendesk_port, http=DroppingH11Protocol)
    try:
        jira = ServerThread(jira_app, jira_port, http=DroppingH11Protocol)
    except (OSError, RuntimeError, TimeoutError):
        zendesk.stop()
        raise
    return Emulators(
        zendesk_url=zendesk.url,
        jira_url=jira.url,
        zendesk_email=seed.zendesk_api_email,
        zendesk_api_token=zendesk_state.api_token,
        jira_cloud_email=jira_state.cloud_email,
        jira_cloud_api_token=jira_state.cloud_api_token,
        jira_dc_pat=jira_state.dc_pat,
        recorder=recorder,
        zendesk_state=zendesk_state,
        jira_state=jira_state,
        seed=seed,
        servers=[zendesk, jira],
        faults=faults,
    )
