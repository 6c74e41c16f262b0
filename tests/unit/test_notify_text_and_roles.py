"""The Jira comment's exact text, the PHI rewrite of file names and addresses, and role resolution."""

from __future__ import annotations

import pytest

from escalink.domain.phi import FieldFinding, PhiAction
from escalink.services.notify_text import FilePlan, address_without_name, guard_notice, render_comment
from escalink.services.roles import Identity, Role, RoleMap, resolve_role


def test_comment_lists_files_kept_in_zendesk_before_the_marker_line() -> None:
    big = FilePlan(7, "video.mp4", "video/mp4", 12 * 1024 * 1024, "https://z.example/attachments/token/a/")
    text = render_comment("Body text.\n", [(big, "too_large")], 101, "0123abcd")
    assert text.splitlines() == [
        "Body text.", "", "Files kept in Zendesk (open them there):",
        "- video.mp4 (12.0 MB, larger than Jira's attachment limit): https://z.example/attachments/token/a/", "",
        "(sent from Zendesk ticket #101 via Escalink, ref 0123abcd)",
    ]
    assert render_comment("", [], 5, "ffffffff") == "(sent from Zendesk ticket #5 via Escalink, ref ffffffff)"


def test_a_flagged_file_name_leaves_the_address_too() -> None:
    url = "https://z.example/attachments/token/abc/?name=Jane%20Roe%20DOB.png&x=1"
    assert address_without_name(url) == "https://z.example/attachments/token/abc/?x=1"
    assert address_without_name("https://z.example/attachments/token/abc/") == "https://z.example/attachments/token/abc/"


def test_guard_notice_redacts_or_moves_comment_and_file_names() -> None:
    findings = [FieldFinding("comment", "NAME", 7, 11, 0.9, "t"),
                FieldFinding("attachment_ids[1]", "NAME", 0, 4, 0.9, "t")]
    names = {1: "ok.png", 2: "Jane scan.pdf"}
    red = guard_notice(PhiAction.REDACT, "Member Jane has it", names, [1, 2], findings, 9)
    assert (red.body, red.note_lines) == ("Member [NAME] has it", [])
    assert red.file_names == {1: "ok.png", 2: "[NAME] scan.pdf"}
    moved = guard_notice(PhiAction.MOVE_TO_NOTE, "Member Jane has it", names, [1, 2], findings, 9)
    assert moved.body == "Member [details in Zendesk ticket #9, internal note] has it"
    assert moved.file_names == {1: "ok.png", 2: "attachment-2.pdf"}
    assert moved.note_lines == [
        "Comment: Member Jane has it", "Attachment sent to Jira as attachment-2.pdf: Jane scan.pdf"]
    kept = guard_notice(PhiAction.OVERRIDE, "Member Jane has it", names, [1, 2], findings, 9)
    assert (kept.body, kept.file_names) == ("Member Jane has it", names)


def test_the_highest_role_of_any_identity_fact_wins() -> None:
    roles = RoleMap({"Lead@Example.com": "admin", "903": "tier2", "group:77": "TIER2", "group:78": "agent"})
    assert roles.resolve(Identity("someone@example.com")).role is Role.AGENT
    assert roles.resolve(Identity("lead@example.com")).role is Role.ADMIN
    assert roles.resolve(Identity("x@example.com", 903)).role is Role.TIER2
    assert roles.resolve(Identity("x@example.com", 1, (78, 77))).role is Role.TIER2
    assert roles.resolve(Identity("lead@example.com", 903, (77,))).at_least(Role.TIER2)
    assert resolve_role({}, Identity("x@example.com", 5, (1,))) is Role.AGENT


def test_an_unknown_role_in_settings_stops_start_up() -> None:
    with pytest.raises(ValueError, match="superuser"):
        RoleMap({"903": "superuser"})
