"""A Jira 429 storm against a running Escalink: every job completes afterwards, none goes early.

Usage: python benchmarks/rate_limit_storm.py [--seconds 60] [--tickets 20]

Escalink, the emulated Zendesk and the emulated Jira run in this process on loopback (the sandbox
stack, with the embedded queue and its workers as `escalink serve` runs them). One escalation warms
Jira's create metadata; then every call to Jira answers 429 for `--seconds`, with Retry-After always
pointing at the storm's end (and X-RateLimit-Reset, as Jira sends it), while the seeded tickets are
escalated. Afterwards it waits for every escalation to finish and counts Jira requests that arrived
after the first 429 and before the time it named (less 50 ms for requests already in flight).
Last line: `storm: seconds S escalations N done D early_requests E dead G`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx

from escalink.logs import configure as configure_logging
from escalink.sandbox.stack import start_stack


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--tickets", type=int, default=20)
    args = ap.parse_args()
    configure_logging("WARNING")
    db = Path(tempfile.mkdtemp(prefix="escalink-storm-")) / "storm.db"
    with start_stack(database_url=f"sqlite:///{db}", background_sync=True, jobs_backend="embedded",
                     sync_poll_seconds=0.5, escalate_wait_seconds=1.0) as stack, \
            httpx.Client(base_url=stack.url, timeout=60) as api:
        drafts = [d for d in stack.emulators.seed.drafts() if not stack.emulators.seed.phi_values(d.ticket_id)]
        warm, rest = drafts[0], drafts[1:1 + args.tickets]
        assert api.post("/api/escalations", json=warm.model_dump(mode="json", exclude_none=True)).status_code == 201
        stack.emulators.faults.storm("jira", args.seconds)
        storm_end = time.time() + args.seconds
        started = time.monotonic()
        ids, codes = [], []
        for i, draft in enumerate(rest):
            resp = api.post("/api/escalations", json=draft.model_dump(mode="json", exclude_none=True),
                            headers={"Idempotency-Key": f"storm-{i}-{draft.ticket_id}"})
            codes.append(resp.status_code)
            if resp.status_code in (201, 202):
                ids.append(resp.json()["escalation_id"])
        deadline = started + args.seconds + 300
        states: list[str] = []
        while time.monotonic() < deadline:
            states = [api.get(f"/api/escalations/{i}").json()["state"] for i in ids]
            if all(s in ("done", "incomplete", "failed") for s in states):
                break
            time.sleep(1.0)
        finished = time.monotonic() - started
        early = stack.emulators.recorder.sent_too_early("jira", storm_end)
        storm_calls = [c for c in stack.emulators.recorder.calls("jira") if c.status == 429]
        dead = stack.container.store.job_counts()["dead"]
        done = sum(s == "done" for s in states)
        print(f"answers: {', '.join(f'{c}x{codes.count(c)}' for c in sorted(set(codes)))}; 429 answers during "
              f"the storm: {len(storm_calls)}; all finished {finished - args.seconds:.1f} s after the storm ended")
        print(f"storm: seconds {args.seconds:g} escalations {len(ids)} done {done} early_requests {len(early)} "
              f"dead {dead}")


if __name__ == "__main__":
    main()
