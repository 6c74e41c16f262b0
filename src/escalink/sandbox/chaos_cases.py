"""What a chaos run sends: fictional tickets, their escalation drafts, Jira replies and the fault plan.

Everything is derived from a seed, so two runs with the same seed send the same traffic. Texts are
invented and carry no PHI (members are named by UUID only); each summary names its ticket as
"chaos case <id>" and each Jira reply reads "chaos reply <5 digits>", which is how the checker
(`chaos_check`) finds them again in the emulators' state.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any

from escalink.sandbox.seed import Seed

REPLY_PREFIX = "chaos reply"
CASE_PREFIX = "chaos case"

# (area, issue-type specific fields, what the member sees); every draft validates without warnings.
_TEMPLATES: list[tuple[str, dict[str, Any], str]] = [
    ("General technical issues/failures", {
        "summary": "activity screen stays blank after the update",
        "description": "The activity screen shows no content after the latest update; a reinstall did not help.",
        "steps_to_reproduce": ["Update the app", "Open the activity screen", "Wait for it to load"],
        "expected_result": "The activity history is shown.",
        "actual_result": "The screen stays blank.",
        "severity": "Medium", "priority": "Major", "platform": "Android",
    }, "The activity screen stays blank since the last update. The app log is attached."),
    ("Incorrect Messaging", {
        "summary": "reminder message shows the wrong weekday",
        "description": "A reminder message names a different weekday than the one booked in the app.",
        "steps_to_reproduce": ["Book a session for next week", "Wait for the reminder", "Compare the weekday"],
        "expected_result": "The reminder names the booked weekday.",
        "actual_result": "The reminder names the following weekday.",
        "severity": "Low", "priority": "Minor", "platform": "Member Web App",
    }, "The reminder I got names a different day than my booking. The log from the app is attached."),
    ("Devices", {
        "summary": "connected scale does not finish pairing",
        "description": "A newly shipped scale stops at the last pairing step.",
    }, "My new scale does not finish pairing with the app. I attached the app log."),
    ("Metric Updates", {
        "summary": "step count imported twice from one sync",
        "description": "One device sync imported the same step count twice; the duplicate needs removing.",
    }, "My steps for one day show up twice. The app log is attached."),
]
_LOG_LINES = (
    "2024-06-03T09:12:44Z INFO  session start build=9.2.{n}\n"
    "2024-06-03T09:12:45Z WARN  render timeout screen=case-{n}\n"
    "2024-06-03T09:12:46Z INFO  retry scheduled\n"
)
_REPLY_ENDINGS = [
    "the fix is scheduled for the next release.",
    "we reproduced it and are working on a patch.",
    "could you ask for the app version once more?",
    "this is deployed now, please check again.",
]


@dataclass(frozen=True, slots=True)
class ChaosTicket:
    """One Zendesk ticket to seed: `spec` is the body item for `POST /_sandbox/tickets`."""

    number: int  # 0-based position in the run
    spec: dict[str, Any]


def tickets(count: int, seed: Seed, rng: random.Random) -> list[ChaosTicket]:
    """`count` fictional tickets, each with one public member comment carrying a small log file."""
    members = [int(m["id"]) for m in seed.data["zendesk"]["members"]]
    out = []
    for n in range(count):
        area, _, complaint = _TEMPLATES[n % len(_TEMPLATES)]
        requester = rng.choice(members)
        comment = {
            "author_id": requester,
            "body": complaint,
            "public": True,
            "attachments": [{"file_name": f"app-{n:04d}.log", "content_type": "text/plain",
                             "text": _LOG_LINES.format(n=n)}],
        }
        spec = {"subject": f"{area}: report {n:04d}", "requester_id": requester, "tags": ["chaos"],
                "comments": [comment]}
        out.append(ChaosTicket(n, spec))
    return out


def draft(number: int, ticket_id: int, attachment_ids: list[int], seed: Seed, rng: random.Random) -> dict[str, Any]:
    """The escalation draft (the JSON `POST /api/escalations` takes) for a seeded chaos ticket."""
    area, fields, _ = _TEMPLATES[number % len(_TEMPLATES)]
    agents = [str(a["email"]) for a in seed.data["zendesk"]["agents"]]
    body: dict[str, Any] = {
        **fields,
        "ticket_id": ticket_id,
        "area": area,
        "summary": f"{CASE_PREFIX} {ticket_id}: {fields['summary']}",
        "member_uuids": [str(uuid.UUID(int=rng.getrandbits(128), version=4))],
        "attachment_ids": list(attachment_ids),
        "agent_email": rng.choice(agents),
        "checklist": list(seed.data["checklist"]),
    }
    return body


def reply_text(number: int) -> str:
    """The unique text of the `number`-th Jira reply of a run."""
    return f"{REPLY_PREFIX} {number:05d}: {_REPLY_ENDINGS[number % len(_REPLY_ENDINGS)]}"


def fault_rules(rates: dict[str, float] | None = None, hang_seconds: float = 3.0) -> list[dict[str, Any]]:
    """The fault plan of a run: every write Escalink makes fails now and then, in every way.

    Per call: 5% 503, 3% 429 (Retry-After 1 or 2 s), 2% dropped connection, 1% hang past the
    client's timeout (half of them then go through late, as a slow vendor's would: the write
    happens although the caller saw a timeout). Attachment downloads from Zendesk count as writes
    here: they are a step of the escalation too.
    """
    r = {"503": 0.05, "429": 0.03, "drop": 0.02, "hang": 0.01, **(rates or {})}
    targets = [
        ("jira", "POST", "/rest/api/3/issue"),
        ("jira", "POST", "/rest/api/3/issue/*/attachments"),
        ("jira", "POST", "/rest/api/3/issue/*/remotelink"),
        ("jira", "*", "/rest/api/3/issue/*/comment"),
        ("zendesk", "PUT", "/api/v2/tickets/*"),
        ("zendesk", "GET", "/attachments/token/*"),
    ]
    rules: list[dict[str, Any]] = []
    for vendor, method, path in targets:
        where = {"vendor": vendor, "method": method, "path": path}
        rules += [
            {**where, "kind": "503", "rate": r["503"]},
            {**where, "kind": "429", "rate": r["429"] / 2, "retry_after": 1},
            {**where, "kind": "429", "rate": r["429"] / 2, "retry_after": 2},
            {**where, "kind": "drop", "rate": r["drop"]},
            {**where, "kind": "hang", "rate": r["hang"] / 2, "hang_seconds": hang_seconds, "then": "drop"},
            {**where, "kind": "hang", "rate": r["hang"] / 2, "hang_seconds": hang_seconds, "then": "answer"},
        ]
    return rules


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    """One Jira reply: on which ticket's issue, and how often its webhook is delivered (0, 1 or 2)."""

    number: int
    ticket_index: int
    deliveries: int


def reply_plan(events: int, ticket_count: int, rng: random.Random, silent: float = 0.03,
               replayed: float = 0.03) -> list[ReplyPlan]:
    """`events` replies spread evenly over the tickets; `silent` of them are never delivered as
    webhooks (only reconciliation can find them) and `replayed` are delivered twice."""
    order = list(range(ticket_count))
    rng.shuffle(order)
    numbers = list(range(events))
    picked = rng.sample(numbers, round(events * silent) + round(events * replayed))
    cut = round(events * silent)
    deliveries = dict.fromkeys(numbers, 1) | dict.fromkeys(picked[:cut], 0) | dict.fromkeys(picked[cut:], 2)
    return [ReplyPlan(n, order[n % ticket_count], deliveries[n]) for n in numbers]
