"""Load and validate a policy file, reporting every error as FILE:LINE: reason.

PyYAML's constructors drop the position of each value, and pydantic reports
errors by path (`areas[3].issue_type`), so the loader builds the data itself
from the composed node tree and remembers the line of every key and list item.
An error's path is then mapped to the closest line that was recorded.
It also rejects duplicate keys, which PyYAML would silently let the last one win.
Checks between sections (duplicates, references) run once the structure is valid,
so a file with structural errors is reported in two rounds at most.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from escalink.policy.schema import DEFER_CROSS_CHECKS, Loc, Policy, cross_check, format_loc

SHIPPED_POLICY_NAME = "policy.yaml"


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One error in a policy file."""

    file: str
    line: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.location}: {self.message}"


class PolicyFileError(Exception):
    """A policy file that cannot be used; the message lists every error, one per line."""

    def __init__(self, file: str, issues: list[PolicyIssue]):
        self.file = file
        # In file order, so the list reads top to bottom like the file.
        self.issues = tuple(sorted(issues, key=lambda i: (i.line is None, i.line or 0)))
        count = len(issues)
        head = f"invalid policy file {file}: {count} error{'s' if count != 1 else ''}"
        super().__init__("\n".join([head, *(str(i) for i in self.issues)]))


class _MarkingLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping key and sequence item it builds."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[Loc, int] = {(): 1}
        self.duplicates: list[tuple[Loc, int, str]] = []

    def build(self, node: yaml.Node, loc: Loc = ()) -> Any:
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)  # resolves `<<` merge keys like SafeLoader does
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a mapping key must be a plain value", key_node.start_mark
                    )
                key_loc: Loc = (*loc, str(key))
                line = key_node.start_mark.line + 1
                if key in out:
                    first = self.lines[key_loc]
                    self.duplicates.append((key_loc, line, f"duplicate key {key!r} (first on line {first})"))
                    continue
                self.lines[key_loc] = line
                out[key] = self.build(value_node, key_loc)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.lines[(*loc, i)] = item.start_mark.line + 1
                items.append(self.build(item, (*loc, i)))
            return items
        return self.construct_object(node, deep=True)


def _parse(text: str, file: str) -> tuple[Any, _MarkingLoader]:
    loader = _MarkingLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.build(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(p for p in (exc.context, exc.problem) if p) or "YAML syntax error"
        raise PolicyFileError(file, [PolicyIssue(file, line, "(yaml)", reason)]) from exc
    finally:
        loader.dispose()
    return data, loader


def _line_for(lines: dict[Loc, int], loc: Loc) -> int | None:
    """Line of the longest prefix of `loc` that the file contains."""
    for end in range(len(loc), -1, -1):
        found = lines.get(loc[:end])
        if found is not None:
            return found
    return None


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}"
    if error["type"] == "missing":
        return f"missing key {error['loc'][-1]!r}"
    return str(error["msg"])


def _data_loc(loc: tuple[Any, ...]) -> Loc:
    # pydantic appends validator names for some types (e.g. 'function-after[...]'); keep the path.
    return tuple(p for p in loc if isinstance(p, int) or "[" not in str(p))


def parse_policy(text: str, file: str = "<policy>") -> Policy:
    """Validate policy YAML text; `file` names it in error messages."""
    data, loader = _parse(text, file)
    issues = [PolicyIssue(file, line, format_loc(loc), msg) for loc, line, msg in loader.duplicates]
    if not isinstance(data, dict):
        issues.append(PolicyIssue(file, 1, "(top level)", "the policy must be a mapping of keys to values"))
        raise PolicyFileError(file, issues)
    try:
        policy = Policy.model_validate(data, context={DEFER_CROSS_CHECKS: True})
    except ValidationError as exc:
        for err in exc.errors():
            loc = _data_loc(err["loc"])
            issues.append(PolicyIssue(file, _line_for(loader.lines, loc), format_loc(loc), _message(err)))
        raise PolicyFileError(file, issues) from exc
    for loc, msg in cross_check(policy):
        issues.append(PolicyIssue(file, _line_for(loader.lines, loc), format_loc(loc), msg))
    if issues:
        raise PolicyFileError(file, issues)
    return policy


def shipped_policy_path() -> Path:
    """Where the policy shipped with Escalink lives."""
    return Path(str(resources.files("escalink.policy").joinpath(SHIPPED_POLICY_NAME)))


@functools.cache
def _shipped_policy() -> Policy:
    return _load_file(shipped_policy_path())


def _load_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyFileError(
            str(path), [PolicyIssue(str(path), None, "(file)", f"cannot read: {exc}")]
        ) from exc
    return parse_policy(text, str(path))


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the shipped one (cached) when `path` is None.

    Raises PolicyFileError listing every problem as FILE:LINE: location: reason.
    """
    return _shipped_policy() if path is None else _load_file(Path(path))
