"""`escalink policy ...`: show the policy in force and check a policy file before using it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from escalink.policy.loader import PolicyFileError, load_policy, shipped_policy_path
from escalink.policy.schema import GOVERNED_FIELDS, Policy

policy_app = typer.Typer(
    name="policy",
    help="Show the escalation policy, or check a policy file of your own.",
    no_args_is_help=True,
)

_FileOption = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="A policy YAML file; the shipped policy if omitted."),
]


def _table(title: str, *columns: str, wrap_first: bool = False) -> Table:
    table = Table(title=escape(title), title_justify="left", show_lines=False)
    for i, column in enumerate(columns):
        # The first column holds names and ids: keep them whole, wrap the prose instead.
        table.add_column(escape(column), overflow="fold", no_wrap=i == 0 and not wrap_first)
    return table


def _row(table: Table, *cells: str) -> None:
    # Policy text contains square brackets ("[System] Service Request") that rich would read as markup.
    table.add_row(*(escape(c) for c in cells))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _render(policy: Policy, console: Console) -> None:
    console.print(f"Project: {policy.project.key} ({policy.project.name})", markup=False, highlight=False)
    console.print(
        f"Summary: at most {policy.summary_max_length} characters; labels: "
        f"{', '.join(policy.labels) or '(none)'}",
        markup=False,
        highlight=False,
    )
    for issue_type in policy.issue_types:
        table = _table(
            f"Issue type: {issue_type.name} ({issue_type.kind.value}); reporter: "
            f"{issue_type.reporter or '-'}, assignee: {issue_type.assignee or '-'}",
            "Field",
            "Label",
            "Required",
            "Items",
            "Guidance",
        )
        for name in GOVERNED_FIELDS:
            rule = issue_type.fields.get(name)
            if rule is None:
                continue
            items = ""
            if rule.min_items is not None or rule.max_items is not None:
                items = f"{rule.min_items if rule.min_items is not None else 0}..{rule.max_items or 'n'}"
            _row(table, name, rule.label, _yes(rule.required), items, rule.help)
        console.print(table)
    priorities = _table("Priorities", "Priority", "Criteria", "Notes", "Selectable by Support")
    for p in policy.priorities:
        _row(priorities, p.name, p.criteria, p.notes, _yes(p.selectable_by_support))
    console.print(priorities)
    for title, column, values in (
        ("Severities", "Severity", policy.severities),
        ("Platforms", "Platform", policy.platforms),
    ):
        table = _table(title, column)
        for value in values:
            _row(table, value)
        console.print(table)
    request_types = _table("Support escalation types", "Request type", "Left blank if Jira lacks it")
    for r in policy.request_types:
        _row(request_types, r.name, _yes(r.blank_if_unavailable))
    console.print(request_types)
    # One line per area, three short columns: it stays readable in an 80-column terminal.
    areas = _table("Escalation types (area -> what to create)", "Area", "Issue type", "Request type", wrap_first=True)
    for row in policy.areas:
        type_rule = policy.issue_type(row.issue_type)
        type_name = type_rule.name if type_rule else row.issue_type.value
        for area in row.areas:
            _row(areas, area, type_name, row.request_type or "-")
    console.print(areas)
    checklist = _table("Step 0 checklist (all must be confirmed)", "Id", "Check")
    for item in policy.checklist:
        _row(checklist, item.id, item.text)
    console.print(checklist)
    notes = _table("Reminders and best practices", "Id", "Text")
    for reminder in policy.reminders:
        _row(notes, reminder.id, f"{reminder.title}: {reminder.text}")
    for note in policy.best_practices:
        _row(notes, note.id, note.text)
    console.print(notes)


def summarize(policy: Policy) -> str:
    """One line that says what a policy contains."""
    selectable = sum(p.selectable_by_support for p in policy.priorities)
    areas = sum(len(row.areas) for row in policy.areas)
    return (
        f"project {policy.project.key} ({policy.project.name}); {len(policy.issue_types)} issue types; "
        f"{len(policy.priorities)} priorities ({selectable} selectable by Support); "
        f"{len(policy.severities)} severities; {len(policy.platforms)} platforms; "
        f"{len(policy.request_types)} request types; {len(policy.areas)} area rows ({areas} areas); "
        f"{len(policy.checklist)} checklist items"
    )


def _fail(error: PolicyFileError) -> None:
    err = Console(stderr=True, highlight=False)
    for line in str(error).splitlines():
        err.print(line, markup=False, soft_wrap=True)
    raise typer.Exit(code=1)


@policy_app.command("show")
def show(file: _FileOption = None) -> None:
    """Print the policy as tables: issue types and fields, priorities, values, areas, checklist."""
    try:
        policy = load_policy(file)
    except PolicyFileError as exc:
        _fail(exc)
        return
    console = Console(highlight=False)
    console.print(f"Policy: {file or shipped_policy_path()}", markup=False, soft_wrap=True)
    _render(policy, console)


@policy_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The policy YAML file to validate.")],
) -> None:
    """Validate a policy file: print OK and a summary, or every error as FILE:LINE and exit 1."""
    try:
        policy = load_policy(file)
    except PolicyFileError as exc:
        _fail(exc)
        return
    console = Console(highlight=False)
    console.print(f"OK {file}", markup=False, soft_wrap=True)
    console.print(summarize(policy), markup=False, soft_wrap=True)
