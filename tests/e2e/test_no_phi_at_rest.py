"""After the demo, no PHI value of the seeded drafts is in Escalink's logs or database."""

from __future__ import annotations

from pathlib import Path

import pytest

from escalink.logs import configure
from escalink.sandbox.demo import run_demo
from escalink.sandbox.seed import load_seed


def test_demo_leaves_no_phi_in_logs_or_database(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    configure("DEBUG")  # the most talkative setting: still no PHI
    db = tmp_path / "demo.db"
    rows, ok = run_demo(database_url=f"sqlite:///{db}")
    assert ok and any(r["phi_refused"] for r in rows)
    out, err = capfd.readouterr()
    logs = (out + err).lower()
    assert "escalation.issue_created" in logs  # the logs were captured at all
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("demo.db")).lower()
    assert b"escalations" in stored and len(stored) > 10_000
    values = load_seed().all_phi_values()
    assert len(values) >= 8
    for value in values:
        assert value.lower() not in logs, value
        assert value.lower().encode() not in stored, value
