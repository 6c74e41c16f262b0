"""Seed data for the sandbox: fictional members, agents, tickets and the agents' drafts.

`load_seed()` reads `seed.yaml`; `apply_seed()` puts it into emulator states. Attachment bytes
(PNG screenshots, PDFs, logs) are generated here, so the seed file stays text.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from escalink.domain.draft import EscalationDraft
from escalink.sandbox.jira_state import JiraState
from escalink.sandbox.zendesk_state import ZAttachment, ZendeskState

SEED_FILE = Path(__file__).with_name("seed.yaml")
CONTENT_TYPES = {"png": "image/png", "pdf": "application/pdf", "log": "text/plain"}


def png_bytes(rgb: tuple[int, int, int], width: int = 24, height: int = 16) -> bytes:
    """A small valid PNG filled with one colour (stands in for a screenshot)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(text: str) -> bytes:
    """A one-page PDF showing `text` (xref offsets computed, so readers accept it)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def attachment_bytes(spec: dict[str, Any]) -> bytes:
    kind = spec["kind"]
    if kind == "png":
        r, g, b = spec.get("color", (128, 128, 128))
        return png_bytes((int(r), int(g), int(b)))
    if kind == "pdf":
        return pdf_bytes(str(spec.get("text", "")))
    return str(spec.get("text", "")).encode()


@dataclass(frozen=True)
class Seed:
    """The parsed seed file."""

    data: dict[str, Any]

    @property
    def tickets(self) -> list[dict[str, Any]]:
        return list(self.data["tickets"])

    def drafts(self) -> list[EscalationDraft]:
        """One EscalationDraft per ticket that has one, as the agent would submit it."""
        return [self.draft(t["id"]) for t in self.tickets if "draft" in t]

    def phi_values(self, ticket_id: int) -> list[str]:
        """The PHI values a seeded draft carries on purpose (empty for clean drafts)."""
        ticket = next(t for t in self.tickets if t["id"] == ticket_id)
        return [str(v) for v in ticket.get("phi", [])]

    def all_phi_values(self) -> list[str]:
        return [v for t in self.tickets for v in self.phi_values(t["id"])]

    def draft(self, ticket_id: int) -> EscalationDraft:
        ticket = next(t for t in self.tickets if t["id"] == ticket_id)
        fields = dict(ticket["draft"])
        fields.setdefault("checklist", list(self.data["checklist"]))
        return EscalationDraft(ticket_id=ticket_id, **fields)

    @property
    def zendesk_api_email(self) -> str:
        return str(self.data["zendesk"]["api_user"]["email"])


def load_seed(path: Path | None = None) -> Seed:
    """Read and return the seed (the shipped `seed.yaml` by default)."""
    return Seed(yaml.safe_load((path or SEED_FILE).read_text(encoding="utf-8")))


def apply_seed(seed: Seed, zendesk: ZendeskState | None = None, jira: JiraState | None = None) -> None:
    """Load the seed's people and tickets into emulator states (ids as in the file)."""
    if zendesk is not None:
        _apply_zendesk(seed, zendesk)
    if jira is not None:
        with jira.lock:
            for user in seed.data["jira"]["users"]:
                if not any(u.email == user["email"] for u in jira.users):
                    jira.add_user(user["name"], user["email"], user["display_name"])


def _apply_zendesk(seed: Seed, state: ZendeskState) -> None:
    z = seed.data["zendesk"]
    with state.lock:
        api = z["api_user"]
        state.add_user(api["name"], api["email"], api.get("role", "admin"), user_id=api["id"])
        for agent in z["agents"]:
            state.add_user(agent["name"], agent["email"], "agent", user_id=agent["id"])
        for member in z["members"]:
            state.add_user(member["name"], member["email"], "end-user", user_id=member["id"])
        for ticket in seed.tickets:
            for att in ticket.get("attachments", []):
                content_type = CONTENT_TYPES[att["kind"]]
                state.attachments[att["id"]] = ZAttachment(
                    att["id"],
                    att["file_name"],
                    content_type,
                    attachment_bytes(att),
                    inline=bool(att.get("inline")),
                )
            final_status = ticket.get("status", "open")
            zt = state.add_ticket(ticket["subject"], ticket["requester"], status="open", tags=["sandbox"])
            # Seeded ids are fixed so drafts can name tickets and attachments.
            del state.tickets[zt.id]
            zt.id = ticket["id"]
            state.tickets[zt.id] = zt
            for comment in ticket["comments"]:
                state.add_comment(
                    zt,
                    comment["author"],
                    comment["body"],
                    public=bool(comment.get("public", True)),
                    html_body=comment.get("html_body"),
                    attachment_ids=list(comment.get("attachments", [])),
                )
            zt.status = final_status
        state.bump_ids(max([*state.users, *state.tickets, *state.attachments, 0]))
