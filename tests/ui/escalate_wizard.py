"""Drives the "Create issue" panel over HTTP the way its HTMX page does: it reads the form the server drew
(hidden inputs included), fills it in, and posts it back whole, with a button's op when one is pressed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import httpx

from escalink.domain.draft import EscalationDraft
from escalink.policy.schema import Policy
from escalink.sandbox.stack import Stack

HX = {"HX-Request": "true"}
BUG_AREA = "General technical issues/failures"
OOB_ERROR = re.compile(r'<p class="field-error" id="err-([^"]+)" hx-swap-oob="true">(.*?)</p>', re.S)


class FormReader(HTMLParser):
    """The values a browser would submit for the form with `form_id` (buttons left out)."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._option: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), []
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option":
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": []}

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)
        if self._option is not None:
            self._option["text"].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            value = self._option["value"]
            self._options.append(("".join(self._option["text"]) if value is None else value, self._option["selected"]))
            self._option = None
        elif tag == "select" and self._select is not None:
            chosen = next((v for v, sel in self._options if sel), self._options[0][0] if self._options else "")
            self.fields.append((self._select, chosen))
            self._select = None


def read_form(html: str, form_id: str = "esc-form") -> list[tuple[str, str]]:
    reader = FormReader(form_id)
    reader.feed(html)
    return reader.fields


def oob_errors(html: str) -> dict[str, str]:
    """Each message the inline check put beside an input, by the input's key ("summary", "member_uuids-0")."""
    return {key: re.sub(r"\s+", " ", text).strip() for key, text in OOB_ERROR.findall(html)}


def fragment(html: str, element_id: str) -> str:
    """The element with `element_id`, up to its matching closing tag (void elements: the tag alone)."""
    start = html.find(f'id="{element_id}"')
    assert start >= 0, f"no #{element_id} in the page"
    open_at = html.rfind("<", 0, start)
    tag = re.match(r"<(\w+)", html[open_at:])
    assert tag is not None
    name, depth, pos = tag.group(1), 0, open_at
    if name in ("input", "img", "br", "link", "meta"):
        return html[open_at:html.index(">", start) + 1]
    for m in re.finditer(rf"<(/?){name}\b[^>]*>", html[open_at:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            pos = open_at + m.end()
            break
    return html[open_at:pos]


class Wizard:
    """One agent's pass through the panel for one ticket."""

    def __init__(self, client: httpx.Client, ticket_id: int, checklist: list[str]) -> None:
        self.client = client
        self.ticket_id = ticket_id
        self.checklist = checklist
        self.fields: list[tuple[str, str]] = []
        self.html = ""

    @property
    def base(self) -> str:
        return f"/app/tickets/{self.ticket_id}/escalate"

    def post(self, path: str, data: list[tuple[str, str]]) -> httpx.Response:
        grouped: dict[str, list[str]] = {}
        for k, v in data:
            grouped.setdefault(k, []).append(v)
        return self.client.post(self.base + path, data=grouped, headers=HX)

    def choose(self, area: str) -> httpx.Response:
        """Step 0 confirmed, then the area: the form for its issue type."""
        area_page = self.post("/area", [("checklist", c) for c in self.checklist])
        assert area_page.status_code == 200, area_page.text
        data = [*read_form(area_page.text.replace("<form ", '<form id="area-form" ', 1), "area-form"),
                ("area", area)]
        return self._drawn(self.post("/form", data))

    def _drawn(self, r: httpx.Response) -> httpx.Response:
        self.html = r.text
        if 'id="esc-form"' in r.text:
            self.fields = read_form(r.text)
        return r

    def get(self, name: str) -> list[str]:
        return [v for k, v in self.fields if k == name]

    def set(self, name: str, *values: str) -> Wizard:
        """Replace every value of `name` (a list field takes several), keeping the form's order."""
        at = next((i for i, (k, _) in enumerate(self.fields) if k == name), len(self.fields))
        rest = [(k, v) for k, v in self.fields if k != name]
        self.fields = rest[:at] + [(name, v) for v in values] + rest[at:]
        return self

    def fill(self, **values: str | list[str]) -> Wizard:
        for name, value in values.items():
            self.set(name, *([value] if isinstance(value, str) else value))
        return self

    def press(self, op: str) -> httpx.Response:
        """A button of the form that draws it again (add, move, redact, ...)."""
        return self._drawn(self.post("/form", [*self.fields, ("op", op)]))

    def check(self) -> httpx.Response:
        return self.post("/check", self.fields)

    def submit(self) -> httpx.Response:
        return self._drawn(self.post("", self.fields))


# --- shortcuts over the sandbox stack ------------------------------------------------------------------


def policy_of(stack: Stack) -> Policy:
    return stack.container.policy


def wizard(stack: Stack, client: httpx.Client, ticket_id: int) -> Wizard:
    return Wizard(client, ticket_id, policy_of(stack).checklist_ids())


def seed_draft(stack: Stack, ticket_id: int) -> EscalationDraft:
    return stack.emulators.seed.draft(ticket_id)


def fill_bug(w: Wizard, d: EscalationDraft) -> Wizard:
    return w.fill(member_uuids=d.member_uuids, summary=d.summary, description=d.description,
                  steps_to_reproduce=d.steps_to_reproduce, expected_result=d.expected_result,
                  actual_result=d.actual_result, severity=d.severity or "", priority=d.priority or "",
                  platform=d.platform or "", attachment_ids=[str(a) for a in d.attachment_ids])


def jira_text(value: Any) -> str:
    """Every string in an issue's fields (ADF documents flattened)."""
    if isinstance(value, dict):
        return " ".join(jira_text(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(jira_text(v) for v in value)
    return str(value)


def only_issue(stack: Stack) -> Any:
    issues = list(stack.emulators.jira_state.issues.values())
    assert len(issues) == 1, [i.key for i in issues]
    return issues[0]


def disabled(html: str, element_id: str) -> bool:
    return " disabled" in fragment(html, element_id).split(">", 1)[0]
