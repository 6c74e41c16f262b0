"""Escalink wired to the emulated vendors: what `escalink sandbox`, the demo and end-to-end tests run."""

from __future__ import annotations

import signal
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from pydantic import SecretStr

from escalink.bootstrap import Container, build_container
from escalink.config import Settings
from escalink.sandbox.faults import FaultPlan
from escalink.sandbox.runner import Emulators, ServerThread, start_emulators
from escalink.sandbox.sidebar_login import SeedSignIn, TokenSigner
from escalink.web.app import create_app
from escalink.web.ui.auth import enable_sandbox_login

# Seeded agents who are not plain agents, so Tier 2 steps can be tried in the sandbox.
SANDBOX_ROLES = {"lena.kowalczyk@example.com": "tier2", "marcus.oyelaran@example.com": "admin"}

# Discovery calls are cached across escalations and not counted in an escalation's budget.
DISCOVERY_PATHS = ("/issue/createmeta", "/user/search", "/myself", "/serverInfo", "/project/")


@dataclass
class Stack:
    emulators: Emulators
    container: Container
    server: ServerThread
    settings: Settings
    app: FastAPI

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()
        self.container.close()
        self.emulators.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sandbox_settings(emulators: Emulators, *, flavor: str, database_url: str, **extra: object) -> Settings:
    """Settings pointing Escalink at the emulators, with the credentials they accept."""
    return Settings(  # type: ignore[call-arg]
        database_url=database_url,
        zendesk_url=emulators.zendesk_url,
        zendesk_email=emulators.zendesk_email,
        zendesk_api_token=SecretStr(emulators.zendesk_api_token),
        jira_url=emulators.jira_url,
        jira_flavor=flavor,  # type: ignore[arg-type]
        jira_email=emulators.jira_cloud_email,
        jira_api_token=SecretStr(emulators.jira_cloud_api_token),
        jira_pat=SecretStr(emulators.jira_dc_pat),
        jira_webhook_secret=SecretStr(emulators.webhook_secrets["jira"]),
        zendesk_webhook_secret=SecretStr(emulators.webhook_secrets["zendesk"]),
        roles={**SANDBOX_ROLES, **extra.pop("roles", {})},  # type: ignore[dict-item]
        _env_file=None,  # the sandbox never reads a real .env: it must not talk to real vendors
        **extra,  # type: ignore[arg-type]
    )


def start_stack(
    *,
    port: int = 0,
    flavor: str = "cloud",
    database_url: str,
    faults: FaultPlan | None = None,
    background_sync: bool = False,
    sandbox_login: bool = True,
    **settings: object,
) -> Stack:
    """Emulated Zendesk on port+1 and Jira on port+2 (ephemeral ports when port is 0), Escalink on port.

    `faults` makes the emulators fail calls as planned (also changeable later via `emulators.faults`).
    `background_sync` runs the inbound webhook processor as `escalink serve` does; tests and the demo
    leave it off and call `container.inbound.process_pending()` themselves, at moments they choose.
    `sandbox_login` lets a ticket page opened without a session sign in as a seeded agent, with a token
    the stack signs as Zendesk would (off: the sidebar is configured with whatever `zaf_*` settings say).
    """
    # With the background on, jobs go through the embedded queue as in `escalink serve`; without it,
    # they run inside each request, so tests and the demo see every step finished when answered.
    settings.setdefault("jobs_backend", "embedded" if background_sync else "immediate")
    if settings["jobs_backend"] == "embedded" and "jobs_queue_path" not in settings:
        settings["jobs_queue_path"] = str(Path(tempfile.mkdtemp(prefix="escalink-queue-")) / "queue.db")
    emulators = start_emulators(port + 1 if port else 0, port + 2 if port else 0, faults=faults)
    try:
        signer = None
        if sandbox_login:
            # Shaped like Zendesk's: the account host as issuer, an app installation as audience.
            signer = TokenSigner(issuer=urlsplit(emulators.zendesk_url).netloc,
                                 audience=f"{emulators.zendesk_url}/api/v2/apps/installations/1.json")
            settings.update(zaf_public_key=signer.public_pem, zaf_issuer=signer.issuer, zaf_audience=signer.audience)
        cfg = sandbox_settings(emulators, flavor=flavor, database_url=database_url, **settings)
        container = build_container(cfg)
        app = create_app(container)
        if signer is not None:
            enable_sandbox_login(app, SeedSignIn(emulators.seed, signer))
        server = ServerThread(app, port, lifespan="on" if background_sync else "off")
    except BaseException:
        emulators.stop()
        raise
    return Stack(emulators=emulators, container=container, server=server, settings=cfg, app=app)


def run_forever(*, port: int, flavor: str, database_url: str | None) -> None:
    """`escalink sandbox`: start the stack, print where everything is, serve until interrupted."""
    if database_url is None:
        # The emulators start from their seed every time, so Escalink's links must too.
        db = Path("var").resolve() / "sandbox.db"
        for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            stale.unlink(missing_ok=True)
        database_url = f"sqlite:///{db}"
    url = database_url
    stack = start_stack(port=port, flavor=flavor, database_url=url, background_sync=True)
    e = stack.emulators
    print(f"Escalink          {stack.url}   (API docs: {stack.url}/docs)")
    print(f"Emulated Zendesk  {e.zendesk_url}   user {e.zendesk_email} / token {e.zendesk_api_token}")
    cloud = flavor == "cloud"
    jira_auth = f"{e.jira_cloud_email} / token {e.jira_cloud_api_token}" if cloud else f"PAT {e.jira_dc_pat}"
    print(f"Emulated Jira     {e.jira_url}   ({flavor}) {jira_auth}")
    print(f"Webhook secrets   jira={e.webhook_secrets['jira']}  zendesk={e.webhook_secrets['zendesk']}")
    print(f"Database          {url}")
    print("Roles             " + ", ".join(f"{who} = {role}" for who, role in SANDBOX_ROLES.items())
          + "; everyone else is a Tier 1 agent")
    print("Seeded tickets (ticket, area, the agent and member UUID its sample draft uses; its sidebar URL):")
    for draft in e.seed.drafts():
        phi = "  [sample draft carries PHI]" if e.seed.phi_values(draft.ticket_id) else ""
        print(f"  #{draft.ticket_id:<4} {draft.area or '':<52} {draft.agent_email:<30} {draft.member_uuids[0]}{phi}")
        print(f"        sidebar {stack.url}/app/tickets/{draft.ticket_id}")
    other = next(iter(SANDBOX_ROLES))
    print(f"A sidebar URL signs in as the ticket's agent, with a token signed as Zendesk would; add ?as={other} "
          "to be another seeded agent.")
    print("Recorded vendor calls: GET /_sandbox/calls on either emulator. Ctrl-C stops.", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
