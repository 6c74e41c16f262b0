"""The emulated Zendesk and Jira as a process of their own, for harnesses that kill Escalink.

    python -m escalink.sandbox.emulators [--zendesk-port 0] [--jira-port 0] [--flavor cloud]

Starts the seeded emulators (port 0 picks a free one), prints ONE JSON line on stdout saying
where they are and which credentials and webhook secrets Escalink must use (`EmulatorInfo`),
then serves until SIGTERM or SIGINT. `escalink_env()` turns that line into the ESCALINK_*
environment of an `escalink serve` pointed at them. The credentials are the sandbox's own,
fresh per process; the emulators never talk to a real vendor.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import asdict, dataclass
from typing import Any

from escalink.sandbox.runner import Emulators, start_emulators


@dataclass(frozen=True, slots=True)
class EmulatorInfo:
    """What a running emulator process announces on its first stdout line."""

    zendesk_url: str
    jira_url: str
    flavor: str
    zendesk_email: str
    zendesk_api_token: str
    jira_email: str
    jira_api_token: str
    jira_pat: str
    jira_webhook_secret: str
    zendesk_webhook_secret: str

    @classmethod
    def of(cls, emulators: Emulators, flavor: str) -> EmulatorInfo:
        return cls(
            zendesk_url=emulators.zendesk_url,
            jira_url=emulators.jira_url,
            flavor=flavor,
            zendesk_email=emulators.zendesk_email,
            zendesk_api_token=emulators.zendesk_api_token,
            jira_email=emulators.jira_cloud_email,
            jira_api_token=emulators.jira_cloud_api_token,
            jira_pat=emulators.jira_dc_pat,
            jira_webhook_secret=emulators.webhook_secrets["jira"],
            zendesk_webhook_secret=emulators.webhook_secrets["zendesk"],
        )

    def to_line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> EmulatorInfo:
        data: dict[str, Any] = json.loads(line)
        return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__})


def escalink_env(info: EmulatorInfo) -> dict[str, str]:
    """The ESCALINK_* variables that point Escalink at these emulators (as `stack.sandbox_settings`)."""
    return {
        "ESCALINK_ZENDESK_URL": info.zendesk_url,
        "ESCALINK_ZENDESK_EMAIL": info.zendesk_email,
        "ESCALINK_ZENDESK_API_TOKEN": info.zendesk_api_token,
        "ESCALINK_JIRA_URL": info.jira_url,
        "ESCALINK_JIRA_FLAVOR": info.flavor,
        "ESCALINK_JIRA_EMAIL": info.jira_email,
        "ESCALINK_JIRA_API_TOKEN": info.jira_api_token,
        "ESCALINK_JIRA_PAT": info.jira_pat,
        "ESCALINK_JIRA_WEBHOOK_SECRET": info.jira_webhook_secret,
        "ESCALINK_ZENDESK_WEBHOOK_SECRET": info.zendesk_webhook_secret,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m escalink.sandbox.emulators", description=__doc__)
    parser.add_argument("--zendesk-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--jira-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--flavor", choices=("cloud", "datacenter"), default="cloud",
                        help="which Jira flavour Escalink should use (both are served)")
    args = parser.parse_args(argv)
    done = threading.Event()
    # Handlers first: a harness may signal as soon as it has read the line.
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        emulators = start_emulators(args.zendesk_port, args.jira_port)
    except OSError as exc:
        print(f"cannot listen: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        sys.stdout.write(EmulatorInfo.of(emulators, args.flavor).to_line() + "\n")
        sys.stdout.flush()
        done.wait()
    finally:
        emulators.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
