"""The cursor port: named high-water marks of periodic jobs (e.g. reconciliation's "updated since")."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class CursorStore(Protocol):
    """Durable named moments. Each call is one transaction.

    Values are timezone-aware datetimes; an implementation returns them as it was given
    them (the same instant, in UTC or with the original offset). A job reads its cursor at
    the start of a run and writes it only once the run's work is stored, so a crash in
    between repeats work instead of losing it.
    """

    def get_cursor(self, name: str) -> datetime | None:
        """The stored moment, or None when `name` was never set."""
        ...

    def set_cursor(self, name: str, value: datetime) -> None:
        """Store (insert or replace) the moment for `name`."""
        ...
