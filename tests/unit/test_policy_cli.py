"""`escalink policy show` and `escalink policy check`, through typer's test runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalink.policy import shipped_policy_path
from escalink.policy.cli import policy_app

# Wide enough that rich keeps each policy sentence on one line.
RUNNER = CliRunner(env={"COLUMNS": "400"})
SHIPPED = shipped_policy_path().read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "expected",
    [
        "Project: ESCA (Support Escalations)",
        "Issue type: Bug (bug)",
        "Issue type: [System] Service Request (service_request)",
        "steps_to_reproduce",
        "Release Blocker",
        "Not used by Support; this is for the Infra team to track new feature releases.",
        "Health Guide Platform",
        "Document Processing Support (Lab, Medical Record, etc)",
        "Uncategorized",
        "Add AMS Program/VMP",
        "Urgent blocking items needing technical assistance",
        "Review the Escalations Chart on the Member Services Escalations Quick Guide KB.",
        "one_jira_per_ticket",
    ],
)
def test_show_prints_the_shipped_policy(expected: str) -> None:
    result = RUNNER.invoke(policy_app, ["show"])
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_show_lists_every_area_in_a_narrow_terminal() -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(policy_app, ["show"])
    assert result.exit_code == 0
    for area in ("Add AMS Program/VMP", "Change Starting Weight", "Other", "Incorrect Messaging"):
        assert area in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_show_a_given_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(SHIPPED.replace("name: Support Escalations", "name: Escalation Drills"), encoding="utf-8")
    result = RUNNER.invoke(policy_app, ["show", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "Project: ESCA (Escalation Drills)" in result.output


def test_check_accepts_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "copy.yaml"
    path.write_text(SHIPPED, encoding="utf-8")
    result = RUNNER.invoke(policy_app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    first, summary = result.output.strip().splitlines()
    assert first == f"OK {path}"
    assert "project ESCA (Support Escalations)" in summary
    assert "6 priorities (5 selectable by Support)" in summary
    assert "8 area rows (22 areas)" in summary


def test_check_lists_every_error_with_file_and_line(tmp_path: Path) -> None:
    text = SHIPPED.replace("  key: ESCA\n", "  key: ESCA\n  colour: blue\n").replace(
        "    recommended: Bug\n    issue_type: bug\n", "    recommended: Bug\n    issue_type: [bug]\n"
    )
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    colour = lines.index("  colour: blue") + 1
    issue_type = lines.index("    issue_type: [bug]") + 1
    result = RUNNER.invoke(policy_app, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{colour}: project.colour: unknown key 'colour'" in result.output
    assert f"{path}:{issue_type}: areas[7].issue_type: " in result.output
    assert "OK" not in result.output


def test_check_a_file_that_does_not_exist(tmp_path: Path) -> None:
    result = RUNNER.invoke(policy_app, ["check", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_show_a_broken_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 2\n", encoding="utf-8")
    result = RUNNER.invoke(policy_app, ["show", "--file", str(path)])
    assert result.exit_code == 1
    assert f"{path}:1: version: " in result.output
