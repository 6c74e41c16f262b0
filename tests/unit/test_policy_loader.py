"""Broken copies of the shipped policy are rejected with FILE:LINE for every error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from escalink.policy import PolicyFileError, load_policy, parse_policy, shipped_policy_path
from escalink.policy.schema import Policy

SHIPPED = shipped_policy_path().read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, f"{needle!r} must occur once"
    return text[: text.index(needle)].count("\n") + 1


def _write(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert SHIPPED.count(old) == 1, f"{old!r} must occur once in the shipped policy"
    text = SHIPPED.replace(old, new)
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


# (name, old text, new text, unique text starting on the line the error must name, location, message fragment)
BROKEN = [
    (
        "unknown key",
        "  key: ESCA\n",
        "  key: ESCA\n  colour: blue\n",
        "colour: blue",
        "project.colour",
        "unknown key 'colour'",
    ),
    (
        "bad enum value",
        "    recommended: Bug\n    issue_type: bug\n",
        "    recommended: Bug\n    issue_type: bugg\n",
        "issue_type: bugg",
        "areas[7].issue_type",
        "'bug' or 'service_request'",
    ),
    (
        "bad boolean",
        "selectable_by_support: false",
        "selectable_by_support: perhaps",
        "selectable_by_support: perhaps",
        "priorities[1].selectable_by_support",
        "boolean",
    ),
    (
        "wrong type: scalar for a list",
        "labels:\n  - escalink\n",
        "labels: {name: escalink}\n",
        "labels: {name: escalink}",
        "labels",
        "tuple",
    ),
    (
        "wrong type: text for a number",
        "summary_max_length: 255",
        "summary_max_length: many",
        "summary_max_length: many",
        "summary_max_length",
        "integer",
    ),
    (
        "over Jira's limit",
        "summary_max_length: 255",
        "summary_max_length: 300",
        "summary_max_length: 300",
        "summary_max_length",
        "255",
    ),
    (
        "missing key",
        "  - name: Release Blocker\n    criteria: Critical issue in a release candidate.\n",
        "  - name: Release Blocker\n",
        "- name: Release Blocker",
        "priorities[1].criteria",
        "missing key 'criteria'",
    ),
    (
        "duplicate area",
        "      - Fax\n",
        "      - Fax\n      - Devices\n",
        "      - Devices\n      - Document",
        "areas[1].areas[2]",
        "duplicate area 'Devices'",
    ),
    ("duplicate severity", "  - Low\n", "  - Low\n  - low\n", "- low", "severities[4]", "duplicate severity"),
    (
        "duplicate yaml key",
        "version: 1\n",
        "version: 1\nversion: 1\n",
        "version: 1\n\nproject",
        "version",
        "duplicate key 'version' (first on line",
    ),
    (
        "unknown request type",
        "    request_type: Product Feedback\n",
        "    request_type: Product Feedbak\n",
        "request_type: Product Feedbak",
        "areas[3].request_type",
        "unknown request type 'Product Feedbak'",
    ),
    (
        "bug row naming a request type",
        "    issue_type: bug\n",
        "    issue_type: bug\n    request_type:  Technical Execution\n",
        "request_type:  Technical",
        "areas[7].request_type",
        "must not name a request_type",
    ),
    (
        "service request row without one",
        "    issue_type: service_request\n    request_type: Product Feedback\n",
        "    issue_type: service_request\n",
        "  - areas:\n      - General feedback",
        "areas[3]",
        "must name a request_type",
    ),
    (
        "unknown field",
        "      platform:\n        required: true\n",
        "      platfrom:\n        required: true\n",
        "platfrom:",
        "issue_types[0].fields.platfrom",
        "unknown field 'platfrom'",
    ),
    (
        "item counts on a scalar field",
        "        help: Short title appropriate to issue.\n",
        "        help: Short title appropriate to issue.\n        max_items: 3\n",
        "summary:\n        required: true\n"
        "        label: Summary\n        help: Short title appropriate to issue.\n",
        "issue_types[0].fields.summary",
        "min_items/max_items apply only to",
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "line_text", "location", "fragment"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_broken_copy_reports_file_line_and_reason(
    tmp_path: Path, name: str, old: str, new: str, line_text: str, location: str, fragment: str
) -> None:
    path, text = _write(tmp_path, old, new)
    line = _line_of(text, line_text)  # the line where the expected error's text begins
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert f"{path}:{line}: {location}: " in message, message
    assert fragment in message
    assert [i.line for i in caught.value.issues] == sorted(i.line or 0 for i in caught.value.issues)


def test_every_error_is_listed_at_once(tmp_path: Path) -> None:
    text = SHIPPED.replace("  key: ESCA\n", "  key: ESCA\n  colour: blue\n").replace(
        "summary_max_length: 255", "summary_max_length: many"
    )
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"invalid policy file {path}: 2 errors"
    assert lines[1].startswith(f"{path}:{_line_of(text, 'colour: blue')}: project.colour")
    assert lines[2].startswith(f"{path}:{_line_of(text, 'summary_max_length: many')}: summary_max_length")


def test_no_selectable_priority(tmp_path: Path) -> None:
    text = SHIPPED.replace("selectable_by_support: true", "selectable_by_support: false")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        PolicyFileError,
        match=rf"{re.escape(str(path))}:{_line_of(text, 'priorities:')}: "
        r"priorities: at least one priority must be selectable_by_support",
    ):
        load_policy(path)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("version: 1\nproject: {key: ESCA\n", 3, "(yaml):"),
        ("version: 1\n  bad indent: [\n", 2, "(yaml):"),
        ("- just\n- a list\n", 1, "must be a mapping"),
        ("", 1, "must be a mapping"),
    ],
)
def test_unreadable_yaml(text: str, line: int, fragment: str) -> None:
    with pytest.raises(PolicyFileError) as caught:
        parse_policy(text, "mine.yaml")
    assert f"mine.yaml:{line}: " in str(caught.value)
    assert fragment in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PolicyFileError, match="cannot read"):
        load_policy(missing)


def test_valid_copy_loads(tmp_path: Path) -> None:
    path = tmp_path / "copy.yaml"
    path.write_text(
        SHIPPED.replace("name: Support Escalations", "name: Escalations Sandbox"), encoding="utf-8"
    )
    policy = load_policy(path)
    assert policy.project.name == "Escalations Sandbox"
    assert policy is not load_policy()


def test_anchors_and_merge_keys_are_yaml_as_usual() -> None:
    text = SHIPPED.replace(
        "  key: ESCA\n  name: Support Escalations\n", "  <<: {key: ESCA}\n  name: Support Escalations\n"
    )
    assert parse_policy(text).project.key == "ESCA"


def test_cross_checks_also_guard_direct_construction() -> None:
    data = load_policy().model_dump()
    data["areas"][0]["request_type"] = "Nowhere"
    with pytest.raises(ValidationError, match="inconsistent policy: areas\\[0\\].request_type"):
        Policy.model_validate(data)
