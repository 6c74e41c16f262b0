"""Escalations through the real queues: huey's embedded SQLite storage consumed inside the server, and
Redis storage consumed by two `escalink worker` processes (when ESCALINK_TEST_REDIS_URL is set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from escalink.config import Settings
from escalink.sandbox.stack import Stack, start_stack
from tests.conftest import REDIS_URL
from tests.e2e.conftest import draft_json


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives another process the same settings."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"ESCALINK_{name.upper()}"] = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return env


def wait_done(api: httpx.Client, escalation_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = api.get(f"/api/escalations/{escalation_id}").json()
        if body["state"] in ("done", "incomplete", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_embedded_queue_runs_jobs_inside_the_server(tmp_path: Path) -> None:
    queue = tmp_path / "queue.db"
    with start_stack(database_url=f"sqlite:///{tmp_path / 'e.db'}", background_sync=True,
                     jobs_backend="embedded", jobs_queue_path=str(queue)) as stack:
        with httpx.Client(base_url=stack.url, timeout=30) as api:
            started = time.monotonic()
            resp = api.post("/api/escalations", json=draft_json(stack, 102))
            took = time.monotonic() - started
            assert resp.status_code == 201, resp.text
            body = resp.json()
            assert body["state"] == "done" and body["zendesk_status"] == "hold", body
            assert took < 5.0  # the request waited for the workers, which picked the jobs up at once
            counts = api.get("/api/admin/jobs", params={"state": "done"}).json()
            assert counts["counts"]["done"] == 4 and counts["counts"]["pending"] == 0  # create, file, link, note
        assert queue.exists()
        assert stack.emulators.recorder.spec_violations() == []


@pytest.fixture
def redis_stack(database_url: str) -> Iterator[Stack]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    with start_stack(database_url=database_url, background_sync=True, jobs_backend="redis",
                     redis_url=REDIS_URL) as stack:
        yield stack
    client.flushdb()


# Only defined when Redis is configured (CI sets ESCALINK_TEST_REDIS_URL), like the PostgreSQL variants.
if REDIS_URL:
    def test_redis_queue_is_served_by_separate_worker_processes(redis_stack: Stack) -> None:
        env = {**os.environ, **settings_env(redis_stack.settings), "ESCALINK_LOG_LEVEL": "WARNING"}
        workers = [subprocess.Popen([sys.executable, "-m", "escalink.cli", "worker", "--workers", "2"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
        try:
            with httpx.Client(base_url=redis_stack.url, timeout=60) as api:
                ids = []
                for ticket in (101, 102, 103, 105):
                    resp = api.post("/api/escalations", json=draft_json(redis_stack, ticket),
                                    headers={"Idempotency-Key": f"redis-{ticket}"})
                    assert resp.status_code in (201, 202), resp.text
                    ids.append(resp.json()["escalation_id"])
                finished = [wait_done(api, i) for i in ids]
                assert [f["state"] for f in finished] == ["done"] * 4, finished
            issues = redis_stack.emulators.jira_state.issues
            assert len(issues) == 4
            assert redis_stack.container.store.job_counts()["dead"] == 0
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.wait(timeout=20)
        errors = [w.stderr.read() if w.stderr else b"" for w in workers]
        assert all(w.returncode in (0, -15) for w in workers), errors
