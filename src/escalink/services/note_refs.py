"""Idempotency markers of the Zendesk internal notes Escalink writes outside its jobs.

Every note ends with a `(Escalink ref <kind>-<id>)` line. Notes written by jobs use the escalation's
label (see escalation_jobs.update_marker) and inbound sync notes list the Jira comments they carry;
the notes here are written inside a request (PHI kept out of Jira, Tier 2 hand-offs). When the
request carries a client key (Idempotency-Key), the marker is derived from it, so a client that
repeats the request after a lost answer finds the note already written and it is not written twice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable


def note_ref(kind: str, key: str | None = None) -> str:
    """The marker line: from the client's key when there is one (repeatable), else unique."""
    ident = hashlib.sha256(key.encode()).hexdigest()[:16] if key else uuid.uuid4().hex[:16]
    return f"(Escalink ref {kind}-{ident})"


def has_ref(bodies: Iterable[str], ref: str) -> bool:
    return any(ref in body for body in bodies)
