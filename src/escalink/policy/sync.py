"""The policy file's `sync` section: what a change made in Jira does to the linked Zendesk ticket.

Every change Jira reports falls into one category (SYNC_CATEGORIES). The section lists the
categories that reopen the ticket (an internal note, and the ticket goes back to `open`),
those that only add an internal note, and those that are ignored. A category listed nowhere
is ignored too; one listed twice, or an unknown one, is an error in the file.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

SyncAction: TypeAlias = Literal["reopen", "note", "ignore"]
ACTIONS: tuple[SyncAction, ...] = ("reopen", "note", "ignore")

#: Change categories, from the Jira changelog's field categories plus what happened to comments
#: and to the issue itself.
SYNC_CATEGORIES: tuple[str, ...] = (
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "status",
    "resolution",
    "priority",
    "labels",
    "assignee",
    "rank",
    "sprint",
    "other",
    "issue_moved",
    "issue_deleted",
)
#: Ticket statuses as the Zendesk REST API spells them.
ZENDESK_STATUSES: tuple[str, ...] = ("new", "open", "pending", "hold", "solved", "closed")

Loc = tuple[str | int, ...]


class SyncPolicy(BaseModel):
    """How Jira changes reach the linked Zendesk tickets (see the `sync` section of policy.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    reopen: tuple[str, ...] = ("comment_created", "status", "resolution", "issue_deleted")
    note: tuple[str, ...] = ("comment_updated", "priority", "issue_moved")
    ignore: tuple[str, ...] = ("comment_deleted", "labels", "assignee", "rank", "sprint", "other")
    never_reopen: tuple[str, ...] = Field(
        default=("solved", "closed"), description="Ticket statuses that get the note but keep their status"
    )
    max_attempts: int = Field(
        default=20, ge=1, le=100, description="Tries before an event Zendesk keeps refusing is marked failed"
    )

    def action(self, category: str) -> SyncAction:
        """What the policy does for one category; unlisted categories are ignored."""
        if category in self.reopen:
            return "reopen"
        if category in self.note:
            return "note"
        return "ignore"


def strongest(actions: list[SyncAction]) -> SyncAction:
    """reopen beats note beats ignore."""
    return next((a for a in ACTIONS if a in actions), "ignore")


def sync_findings(sync: SyncPolicy, loc: Loc = ("sync",)) -> list[tuple[Loc, str]]:
    """Unknown or twice-listed categories and unknown ticket statuses, each at its location."""
    found: list[tuple[Loc, str]] = []
    seen: dict[str, str] = {}
    for action in ACTIONS:
        for i, category in enumerate(getattr(sync, action)):
            here: Loc = (*loc, action, i)
            if category not in SYNC_CATEGORIES:
                found.append((here, f"unknown change category {category!r}; known: {', '.join(SYNC_CATEGORIES)}"))
            elif category in seen:
                found.append((here, f"{category!r} is listed in both {seen[category]} and {action}"))
            else:
                seen[category] = action
    for i, status in enumerate(sync.never_reopen):
        if status not in ZENDESK_STATUSES:
            found.append(
                ((*loc, "never_reopen", i), f"unknown Zendesk status {status!r}; known: {', '.join(ZENDESK_STATUSES)}")
            )
    return found
