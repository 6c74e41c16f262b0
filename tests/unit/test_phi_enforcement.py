"""The PHI guard inside the escalation use case: refuse, redact, move to a note, override."""

from __future__ import annotations

import pytest
from tests.unit.test_escalate_service import FakeHelpdesk, FakeTracker, bug_draft, service
from tests.unit.test_escalate_service import store as store  # noqa: F401  (fixture)

from escalink.adapters.db.store import SqlStore
from escalink.domain.errors import DraftRejected
from escalink.domain.phi import PhiBlocked
from escalink.domain.records import Comment

SLIPPED = {
    "summary": "Reminder names wrong program for Rosalind Quarry",
    "description": "Member (DOB 1971-03-09) sees the message daily.",
}


def test_phi_in_any_text_refuses_the_write_and_sends_nothing(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    with pytest.raises(PhiBlocked) as err:
        service(store, hd, tr).escalate(bug_draft(**SLIPPED, steps_to_reproduce=["Open app", "Take metformin list"]))
    found = {(f.field, f.label) for f in err.value.findings}
    assert found == {("summary", "NAME"), ("description", "DATE"), ("steps_to_reproduce[1]", "CLINICAL")}
    assert err.value.redacted["summary"] == "Reminder names wrong program for Rosalind [NAME]"
    assert hd.calls == [] and tr.calls == []
    decisions = store.phi_decisions(42)
    assert [d.action for d in decisions] == ["block"] and decisions[0].escalation_id is None
    assert {f["label"] for f in decisions[0].findings} == {"NAME", "DATE", "CLINICAL"}


def test_policy_problems_and_phi_come_back_together(store: SqlStore) -> None:
    with pytest.raises(PhiBlocked) as err:
        service(store, FakeHelpdesk(), FakeTracker()).escalate(bug_draft(**SLIPPED, platform="Fax machine"))
    assert {p.field for p in err.value.problems} == {"platform", "summary", "description"}


def test_move_to_internal_note_keeps_jira_clean_and_puts_the_text_in_the_note(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    result = service(store, hd, tr).escalate(bug_draft(**SLIPPED, phi_action="move_to_internal_note"))
    spec = next(c[1] for c in tr.calls if c[0] == "create")
    marker = "[details in Zendesk ticket #42, internal note]"
    assert spec.summary == f"Reminder names wrong program for Rosalind {marker}"
    assert spec.description == f"Member (DOB {marker}) sees the message daily."
    assert "Quarry" not in spec.summary and "1971" not in spec.description
    phi_note, escalated = [c[1].internal_note for c in hd.calls if c[0] == "update"]
    assert SLIPPED["summary"] in phi_note and SLIPPED["description"] in phi_note  # written before the create
    assert "Quarry" not in escalated and "kept out of ESCA-1" in escalated
    assert result.state == "done" and result.phi_findings == 2
    assert [d.action for d in store.phi_decisions(42)] == ["move_to_internal_note"]


def test_several_moved_details_in_one_text_point_to_the_note_once(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    draft = bug_draft(description="Member born 1971-03-09 gets a reminder listing metformin each day.",
                      phi_action="move_to_internal_note")
    service(store, hd, tr).escalate(draft)
    spec = next(c[1] for c in tr.calls if c[0] == "create")
    assert spec.description == ("Member born [details in Zendesk ticket #42, internal note] gets a reminder listing "
                                "[more in the same note] each day.")


def test_redact_replaces_each_span_with_its_label(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    service(store, hd, tr).escalate(bug_draft(**SLIPPED, phi_action="redact"))
    spec = next(c[1] for c in tr.calls if c[0] == "create")
    assert spec.summary.endswith("Rosalind [NAME]") and "[DATE]" in spec.description
    assert "Quarry" not in hd.calls[-1][1].internal_note  # redaction does not copy the text anywhere


def test_override_needs_a_clean_reason_and_is_audited(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    with pytest.raises(DraftRejected) as err:
        service(store, hd, tr).escalate(bug_draft(**SLIPPED, phi_action="override"))
    assert [p.field for p in err.value.problems] == ["phi_override_reason"]
    with pytest.raises(DraftRejected) as err:
        service(store, hd, tr).escalate(
            bug_draft(**SLIPPED, phi_action="override", phi_override_reason="Quarry is a product name here")
        )
    assert [(p.field, p.code) for p in err.value.problems] == [("phi_override_reason", "phi")]
    assert tr.calls == []
    reason = "Flagged words are a product code name, not a person"
    service(store, hd, tr).escalate(bug_draft(**SLIPPED, phi_action="override", phi_override_reason=reason))
    spec = next(c[1] for c in tr.calls if c[0] == "create")
    assert spec.summary == SLIPPED["summary"]
    decision = store.phi_decisions(42)[-1]
    assert decision.action == "override" and decision.reason == reason
    assert len(decision.content_hash) == 64


def test_a_file_name_with_phi_is_refused_after_the_read_but_before_any_write(store: SqlStore) -> None:
    hd, tr = FakeHelpdesk(), FakeTracker()
    hd.file_name = "Quarry_labs.png"
    with pytest.raises(PhiBlocked) as err:
        service(store, hd, tr).escalate(bug_draft())
    assert [(f.field, f.label) for f in err.value.findings] == [("attachment_ids[0]", "NAME")]
    assert [c[0] for c in hd.calls] == ["get_ticket", "list_comments"] and "create" not in [c[0] for c in tr.calls]
    tr.calls.clear()
    service(store, hd, tr).escalate(bug_draft(phi_action="move_to_internal_note"))
    assert ("attach", "attachment-501.png") in tr.calls
    notes = [c[1].internal_note for c in hd.calls if c[0] == "update"]
    assert "Quarry_labs.png" in notes[0] and "Quarry" not in notes[-1]


def test_decision_records_hold_no_text(store: SqlStore) -> None:
    with pytest.raises(PhiBlocked):
        service(store, FakeHelpdesk(), FakeTracker()).escalate(bug_draft(**SLIPPED))
    service(store, FakeHelpdesk(), FakeTracker()).escalate(bug_draft(**SLIPPED, phi_action="move_to_internal_note"))
    dump = repr(store.phi_decisions(42))
    assert "Quarry" not in dump and "1971" not in dump


class NotesVisible(FakeHelpdesk):
    """A helpdesk whose ticket shows the internal notes written to it, as Zendesk does."""

    def list_comments(self, ticket_id: int) -> list[Comment]:
        notes = [c[1].internal_note for c in self.calls if c[0] == "update" and c[1].internal_note]
        return [*super().list_comments(ticket_id),
                *(Comment(100 + i, 900, n, False, "2026-01-01T00:00:00Z", ()) for i, n in enumerate(notes))]


def test_phi_note_is_written_once_when_a_keyed_request_is_repeated_after_a_crash(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    hd, tr = NotesVisible(), FakeTracker()
    svc = service(store, hd, tr)
    real_start = store.start_escalation
    monkeypatch.setattr(store, "start_escalation", lambda **kw: (_ for _ in ()).throw(OSError("process died")))
    draft = bug_draft(**SLIPPED, phi_action="move_to_internal_note")
    with pytest.raises(OSError):
        svc.escalate(draft, idempotency_key="k-1")  # the note is written, then the process dies
    monkeypatch.setattr(store, "start_escalation", real_start)
    result = svc.escalate(draft, idempotency_key="k-1")
    notes = [c[1].internal_note for c in hd.calls
             if c[0] == "update" and c[1].internal_note.startswith("Kept out of Jira")]
    assert result.state == "done" and len(notes) == 1
    assert notes[0].splitlines()[-1].startswith("(Escalink ref phi-note-")
    svc.escalate(draft)  # without a key, a new request is a new escalation with a note of its own
    phi_notes = [c for c in hd.calls if c[0] == "update" and c[1].internal_note.startswith("Kept out of Jira")]
    assert len(phi_notes) == 2
