"""With the background processor on (as in `escalink sandbox` and `serve`), a Jira reply reopens the ticket
without anyone calling the processor."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from escalink.sandbox.replies import play_jira_reply
from escalink.sandbox.stack import start_stack


def test_background_processor_reopens_the_ticket_by_itself(tmp_path: Path) -> None:
    with start_stack(database_url=f"sqlite:///{tmp_path / 'd.db'}", background_sync=True,
                     sync_coalesce_seconds=0.3, sync_poll_seconds=0.1) as stack:
        draft = stack.emulators.seed.draft(104).model_dump(mode="json", exclude_none=True)
        assert httpx.post(stack.url + "/api/escalations", json=draft).status_code == 201
        ticket = stack.emulators.zendesk_state.tickets[104]
        assert ticket.status == "hold"
        play_jira_reply(stack, 104, "We found the cause.", process=False)
        deadline = time.monotonic() + 60  # ends as soon as the ticket opens; long only on a loaded machine
        while ticket.status != "open" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ticket.status == "open"
        assert "We found the cause." in ticket.comments[-1].body and ticket.comments[-1].public is False
