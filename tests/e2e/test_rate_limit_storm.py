"""A Jira 429 storm: escalations are accepted, nothing is sent before Retry-After, all complete after."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from escalink.sandbox.stack import start_stack
from tests.e2e.conftest import draft_json

STORM_SECONDS = 4.0
TICKETS = (101, 102, 103, 105, 106, 107)


def test_every_job_completes_after_a_storm_and_none_goes_early(tmp_path: Path) -> None:
    with start_stack(database_url=f"sqlite:///{tmp_path / 's.db'}", background_sync=True,
                     jobs_backend="embedded", sync_poll_seconds=0.2, escalate_wait_seconds=1.0) as stack, \
            httpx.Client(base_url=stack.url, timeout=60) as api:
        warm = api.post("/api/escalations", json=draft_json(stack, 104))  # discovery is cached from here on
        assert warm.status_code == 201, warm.text
        stack.emulators.faults.storm("jira", STORM_SECONDS)
        storm_end = time.time() + STORM_SECONDS
        answers = [api.post("/api/escalations", json=draft_json(stack, t)) for t in TICKETS]
        # Accepted, never refused: queued (202) while the storm holds the create back; one that comes
        # after the storm on a slow machine may already be done (201).
        codes = [a.status_code for a in answers]
        assert set(codes) <= {201, 202} and codes[0] == 202, [(a.status_code, a.text) for a in answers]
        ids = [a.json()["escalation_id"] for a in answers]
        deadline = time.monotonic() + STORM_SECONDS + 90  # generous for a loaded machine; it ends when all are done
        while time.monotonic() < deadline:
            states = [api.get(f"/api/escalations/{i}").json()["state"] for i in ids]
            if all(s == "done" for s in states):
                break
            time.sleep(0.2)
        assert states == ["done"] * len(ids)
        recorder = stack.emulators.recorder
        assert recorder.count("jira", method="POST", path="/rest/api/3/issue") >= len(ids) + 1
        assert recorder.sent_too_early("jira", storm_end) == []
        assert len(stack.emulators.jira_state.issues) == len(ids) + 1
        assert stack.container.store.job_counts()["dead"] == 0
