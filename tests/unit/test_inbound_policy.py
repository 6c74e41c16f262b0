"""The sync policy as a table: event kinds and change categories → reopen, note or ignore."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from escalink.domain.events import CommentEvent, FieldChange, Ignored, IssueChanged, IssueDeleted, JiraEvent
from escalink.policy import PolicyFileError, load_policy, parse_policy, shipped_policy_path
from escalink.policy.sync import SYNC_CATEGORIES, SyncPolicy
from escalink.services.inbound import drop_echoes, is_escalink_comment
from escalink.services.sync_policy import (
    categories_of,
    decide,
    describe,
    noted_refs,
    refs_line,
    refs_of,
    without_refs,
)

SYNC = load_policy().sync
OWN = "712020:escalink"


def comment(kind: str = "created", body: str = "We shipped a fix.", author: str = "712020:dev") -> CommentEvent:
    return CommentEvent(kind, "10001", "ESCA-1", "30001", author, "Morgan Vale", body, None, None,  # type: ignore[arg-type]
                        actor_account=author, actor_display="Morgan Vale")


def change(*cats: str, previous_key: str | None = None, actor: str = "712020:dev",
           with_comment: CommentEvent | None = None) -> IssueChanged:
    fields = {"status": "status", "resolution": "resolution", "assignee": "assignee", "rank": "Rank",
              "sprint": "Sprint", "priority": "priority", "labels": "labels", "other": "Component"}
    items = tuple(FieldChange(fields[c], "Before", "After", c) for c in cats)  # type: ignore[arg-type]
    if previous_key:
        items += (FieldChange("Key", previous_key, "OPS-3", "other"), FieldChange("project", "A", "B", "other"))
    return IssueChanged("10001", "OPS-3" if previous_key else "ESCA-1", previous_key, actor, "Morgan Vale", None,
                        items, with_comment)


DELETED = IssueDeleted("10001", "ESCA-1", "712020:dev", "Morgan Vale", None)

# event, expected categories, expected action under the shipped policy
DECISIONS: list[tuple[str, JiraEvent, set[str], str]] = [
    ("new comment", comment(), {"comment_created"}, "reopen"),
    ("edited comment", comment("updated"), {"comment_updated"}, "note"),
    ("deleted comment", comment("deleted"), {"comment_deleted"}, "ignore"),
    ("transition", change("status"), {"status"}, "reopen"),
    ("resolution", change("resolution"), {"resolution"}, "reopen"),
    ("resolved = resolution + status", change("resolution", "status"), {"resolution", "status"}, "reopen"),
    ("priority", change("priority"), {"priority"}, "note"),
    ("assignee", change("assignee"), {"assignee"}, "ignore"),
    ("rank", change("rank"), {"rank"}, "ignore"),
    ("sprint", change("sprint"), {"sprint"}, "ignore"),
    ("labels", change("labels"), {"labels"}, "ignore"),
    ("other field", change("other"), {"other"}, "ignore"),
    ("noise together", change("assignee", "rank", "sprint"), {"assignee", "rank", "sprint"}, "ignore"),
    ("noise with a transition", change("rank", "status"), {"rank", "status"}, "reopen"),
    ("move", change(previous_key="ESCA-1"), {"issue_moved"}, "note"),
    ("move with a transition", change("status", previous_key="ESCA-1"), {"issue_moved", "status"}, "reopen"),
    ("transition with a comment", change("status", with_comment=comment()), {"status", "comment_created"}, "reopen"),
    ("assignee with a comment", change("assignee", with_comment=comment()), {"assignee", "comment_created"},
     "reopen"),
    ("deleted issue", DELETED, {"issue_deleted"}, "reopen"),
    ("not used", Ignored("issue created"), set(), "ignore"),
]


@pytest.mark.parametrize(("event", "categories", "action"), [d[1:] for d in DECISIONS], ids=[d[0] for d in DECISIONS])
def test_shipped_policy_decisions(event: JiraEvent, categories: set[str], action: str) -> None:
    assert categories_of(event) == categories
    assert decide(event, SYNC).action == action


def test_the_note_describes_only_what_is_not_ignored() -> None:
    event = change("rank", "status", "assignee")
    decision = decide(event, SYNC)
    assert [c.category for c in decision.changes] == ["status"]
    text = "\n".join(describe(event, decision, "ESCA-1"))
    assert 'Morgan Vale changed status: "Before" → "After"' in text and "Rank" not in text


def test_a_move_names_both_keys_and_a_comment_is_quoted() -> None:
    moved = change(previous_key="ESCA-1", with_comment=comment(body="Moved to ProdOps."))
    text = "\n".join(describe(moved, decide(moved, SYNC), "OPS-3"))
    assert "ESCA-1 is now OPS-3" in text and "Moved to ProdOps." in text and "project" not in text


def test_a_comment_in_an_ignored_category_is_not_quoted() -> None:
    policy = SyncPolicy(reopen=("status",), note=(), ignore=("comment_created",))
    event = change("status", with_comment=comment(body="secret-ish"))
    decision = decide(event, policy)
    assert decision.action == "reopen" and decision.comment is None


@pytest.mark.parametrize("category", SYNC_CATEGORIES)
def test_every_category_is_placed_by_the_shipped_policy(category: str) -> None:
    placed = [a for a in ("reopen", "note", "ignore") if category in getattr(SYNC, a)]
    assert len(placed) == 1, category


def test_unlisted_categories_are_ignored() -> None:
    assert SyncPolicy(reopen=(), note=(), ignore=()).action("status") == "ignore"


# --- echoes -----------------------------------------------------------------------------------

MARK = "(sent from Zendesk ticket #104 via Escalink, ref 0a1b2c3d)"
MARKERS: list[tuple[str, str, bool]] = [
    ("plain, last line", f"Please check again.\n\n{MARK}", True),
    ("only the marker", MARK, True),
    ("upper case", MARK.upper(), True),
    ("extra spaces and a non-breaking one",
     "(sent  from Zendesk\u00a0ticket # 104  via Escalink ,  ref 0A1B2C3D )", True),
    ("wiki escape of #", "Text\n\n(sent from Zendesk ticket \\#104 via Escalink, ref 0a1b2c3d)", True),
    ("wiki italics", f"Text\n_{MARK}_", True),
    ("wiki colour macro", "Text\n{color:#97a0af}" + MARK + "{color}", True),
    ("wiki link on the ticket", "Text\n(sent from Zendesk ticket [#104|https://x.zendesk.com/agent/tickets/104] via "
                                "Escalink, ref 0a1b2c3d)", True),
    ("html rendering", f"<p>Text</p><p><em>{MARK.replace('#', '&#35;')}</em></p>", True),
    ("square brackets", f"Text [{MARK}]", True),
    ("trailing full stop", f"Text {MARK}.", True),
    ("quoted above a person's reply", f"> Please check again.\n> {MARK}\n\nChecked: it is fixed now.", False),
    ("no ref", "(sent from Zendesk ticket #104 via Escalink)", False),
    ("short ref", "(sent from Zendesk ticket #104 via Escalink, ref 0a1b)", False),
    ("another tool", "(sent from Zendesk ticket #104 via Otherlink, ref 0a1b2c3d)", False),
    ("ordinary comment", "We shipped the fix to Escalink users of ticket 104.", False),
]


@pytest.mark.parametrize(("text", "expected"), [m[1:] for m in MARKERS], ids=[m[0] for m in MARKERS])
def test_is_escalink_comment(text: str, expected: bool) -> None:
    assert is_escalink_comment(text) is expected


ECHOES: list[tuple[str, JiraEvent, str | None]] = [
    ("comment by Escalink's account", comment(author=OWN), "own_change"),
    ("comment with the marker", comment(body=f"Hi\n{MARK}"), "escalink_comment"),
    ("change by Escalink's account", change("status", actor=OWN), "own_change"),
    ("a person's comment", comment(), None),
    ("a person's change", change("status"), None),
]


@pytest.mark.parametrize(("event", "reason"), [e[1:] for e in ECHOES], ids=[e[0] for e in ECHOES])
def test_echoes_are_dropped(event: JiraEvent, reason: str | None) -> None:
    kept, why = drop_echoes(event, OWN)
    assert why == reason and (kept is None) == (reason is not None)


def test_a_persons_transition_keeps_its_changes_but_not_a_marked_comment() -> None:
    kept, why = drop_echoes(change("status", with_comment=comment(body=MARK)), OWN)
    assert why is None and isinstance(kept, IssueChanged) and kept.comment is None and kept.changes


def test_an_unknown_own_account_never_matches_a_missing_actor() -> None:
    event = change("status", actor=None)  # type: ignore[arg-type]
    assert drop_echoes(event, "")[0] is event


# --- the policy file --------------------------------------------------------------------------


def _with_sync(section: str) -> str:
    text = shipped_policy_path().read_text()
    return text[: text.index("\nsync:")] + "\n" + section


def test_a_policy_without_a_sync_section_gets_the_defaults() -> None:
    text = shipped_policy_path().read_text()
    assert parse_policy(text[: text.index("\nsync:")]).sync == SyncPolicy() == SYNC


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("sync:\n  reopen: [comment_created, staus]\n", "unknown change category 'staus'"),
        ("sync:\n  reopen: [status]\n  note: [status]\n", "'status' is listed in both reopen and note"),
        ("sync:\n  never_reopen: [done]\n", "unknown Zendesk status 'done'"),
        ("sync:\n  reopn: [status]\n", "unknown key 'reopn'"),
    ],
)
def test_sync_section_errors_name_their_line(section: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError) as err:
        parse_policy(_with_sync(section), "p.yaml")
    issue = next(i for i in err.value.issues if message in i.message)
    assert issue.line is not None and issue.location.startswith("sync")


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_comments_escalink_posts_are_recognised_as_jira_renders_them(flavor: str) -> None:
    from escalink.adapters.jira import adf, wiki
    from escalink.services.notify_text import render_comment

    posted = render_comment("Member says the app still shows 0 steps.", [], 104, "9f8e7d6c")
    rendered = adf.adf_to_text(adf.text_to_adf(posted)) if flavor == "cloud" else wiki.text_to_wiki(posted)
    assert is_escalink_comment(rendered)
    assert not is_escalink_comment(rendered + "\n\nA person's answer below the quoted comment.")


# --- what a note carries once per ticket --------------------------------------------------------

TRANSITION = replace(change("status", with_comment=comment()), changelog_id="40001")
MOVED = replace(change(previous_key="ESCA-1"), changelog_id="40002")
CHANGE_REF, COMMENT_REF = ("10001", "40001", "changed"), ("10001", "30001", "created")

# event, refs noted before, what is left to tell: (categories, previous key) or None
LEFT: list[tuple[str, JiraEvent, set[tuple[str, str, str]], tuple[set[str], str | None] | None]] = [
    ("nothing noted", TRANSITION, set(), ({"status", "comment_created"}, None)),
    ("the change noted", TRANSITION, {CHANGE_REF}, ({"comment_created"}, None)),
    ("the comment noted", TRANSITION, {COMMENT_REF}, ({"status"}, None)),
    ("both noted", TRANSITION, {CHANGE_REF, COMMENT_REF}, None),
    ("a noted move is not told again", MOVED, {("10001", "40002", "changed")}, None),
    ("another change noted", MOVED, {CHANGE_REF}, ({"issue_moved"}, "ESCA-1")),
    ("a noted comment", comment(), {COMMENT_REF}, None),
    ("a change without history id", change("status"), {CHANGE_REF}, ({"status"}, None)),
    ("a deleted issue has no refs", DELETED, {CHANGE_REF, COMMENT_REF}, ({"issue_deleted"}, None)),
]


@pytest.mark.parametrize(("event", "noted", "left"), [c[1:] for c in LEFT], ids=[c[0] for c in LEFT])
def test_what_is_left_once_parts_were_noted(
    event: JiraEvent, noted: set[tuple[str, str, str]], left: tuple[set[str], str | None] | None
) -> None:
    rest = without_refs(event, noted)
    if left is None:
        assert rest is None
        return
    assert rest is not None and categories_of(rest) == left[0]
    assert getattr(rest, "previous_key", None) == left[1]


def test_refs_of_a_change_and_its_comment_round_trip_through_the_note() -> None:
    assert refs_of(TRANSITION) == [CHANGE_REF, COMMENT_REF]
    line = refs_line(refs_of(TRANSITION))
    assert line == "(Escalink refs: 10001/40001/changed 10001/30001/created)"
    assert noted_refs([f"Jira update on ESCA-1\n\n{line}\n(Escalink ref sync 7)"]) == {CHANGE_REF, COMMENT_REF}
    assert noted_refs(["(Escalink refs: 10001/40001/renamed)"]) == set()
