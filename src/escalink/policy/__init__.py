"""The escalation policy: the guide's rules as data, and the engine that applies them to drafts."""

from escalink.policy.engine import evaluate
from escalink.policy.loader import (
    PolicyFileError,
    PolicyIssue,
    load_policy,
    parse_policy,
    shipped_policy_path,
)
from escalink.policy.normalize import is_member_uuid, split_steps
from escalink.policy.schema import Policy
from escalink.policy.spec import to_issue_spec

__all__ = [
    "Policy",
    "PolicyFileError",
    "PolicyIssue",
    "evaluate",
    "is_member_uuid",
    "load_policy",
    "parse_policy",
    "shipped_policy_path",
    "split_steps",
    "to_issue_spec",
]
