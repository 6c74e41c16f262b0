"""IssueSpec -> the `fields` object of ONE Jira create request.

Every value is checked against the create metadata first: a field the policy
needs that is not on the create screen, or a select value Jira does not offer,
raises TrackerMisconfigured naming the field (and the offered values) instead of
letting Jira refuse the create. The one exception is the escalation guide's "Uncategorized"
rule: a request type marked optional that Jira does not offer is left blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from escalink.adapters.jira import adf, wiki
from escalink.adapters.jira.fields import FieldCatalog, FieldMeta, IssueTypeMeta
from escalink.domain.errors import TrackerMisconfigured
from escalink.domain.records import IssueSpec

Flavor = Literal["cloud", "datacenter"]

TEXT_TYPES = frozenset({"textfield", "textarea", "url"})
SINGLE_OPTION_TYPES = frozenset({"select", "radiobuttons"})
MULTI_OPTION_TYPES = frozenset({"multiselect", "multicheckboxes"})
# CreatedIssue.omitted_fields speaks the escalation form's field names, so the service and
# the sidebar can point at the input concerned.
REPORTER = "reporter"
DRAFT_FIELD = {
    "member_uuid": "member_uuids",
    "steps_to_reproduce": "steps_to_reproduce",
    "expected_vs_actual": "expected_result",
    "severity": "severity",
    "platform": "platform",
    "support_escalation_type": "request_type",
}


@dataclass(frozen=True, slots=True)
class MappedIssue:
    """The create request's `fields`, and the display names of fields deliberately left blank."""

    fields: dict[str, Any]
    omitted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Text:
    """A value that is text in a textfield and structured (list, labels) in a textarea."""

    plain: str
    cloud: dict[str, Any]
    datacenter: str


class IssueMapper:
    """Builds create requests for one flavor, from a FieldCatalog's cached metadata."""

    def __init__(self, catalog: FieldCatalog, flavor: Flavor) -> None:
        self.catalog = catalog
        self.flavor = flavor

    def map(self, spec: IssueSpec, reporter: str | None) -> MappedIssue:
        """The `fields` for `spec`; `reporter` is the looked-up account id (Cloud) or name (DC)."""
        meta = self.catalog.issue_type(spec.project_key, spec.issue_type)
        out: dict[str, Any] = {
            "project": {"key": spec.project_key},
            "issuetype": {"id": meta.id},
            "summary": spec.summary,
        }
        omitted: list[str] = []
        if spec.description.strip():
            self._require_system(meta, "description", "Description")
            out["description"] = self._rich(spec.description)
        if spec.priority:
            priority = self._require_system(meta, "priority", "Priority")
            out["priority"] = {"name": self._allowed(meta, priority, spec.priority, "Priority")}
        if spec.labels:
            self._require_system(meta, "labels", "Labels")
            out["labels"] = list(spec.labels)
        # Jira refuses a create that sets a field missing from the create screen, and Cloud
        # sites often leave Reporter off it: then Escalink's own account reports the issue.
        if reporter is not None and "reporter" in meta.fields:
            out["reporter"] = {"accountId": reporter} if self.flavor == "cloud" else {"name": reporter}
        else:
            omitted.append(REPORTER)
        for key, value in self._custom_values(spec):
            fld = self.catalog.resolve(meta, key)
            optional = key == "support_escalation_type" and spec.request_type_optional
            if fld is None:
                if optional:
                    omitted.append(DRAFT_FIELD.get(key, key))
                    continue
                raise self._missing(meta, key)
            not_offered = isinstance(value, str) and self._is_option(fld) and fld.match_allowed(value) is None
            if optional and not_offered:
                omitted.append(DRAFT_FIELD.get(key, key))
                continue
            out[fld.id] = self._format(meta, fld, key, value)
        return MappedIssue(fields=out, omitted=tuple(omitted))

    def field_label(self, meta: IssueTypeMeta, field_id: str) -> str:
        """A readable name for a field id in Jira's error answers."""
        for key in self.catalog.field_names:
            fld = self.catalog.resolve(meta, key)
            if fld is not None and fld.id == field_id:
                return self.catalog.display_name(key)
        known = meta.fields.get(field_id)
        return known.name if known else field_id

    def _custom_values(self, spec: IssueSpec) -> list[tuple[str, str | _Text]]:
        values: list[tuple[str, str | _Text]] = []
        uuids = [u.strip() for u in spec.member_uuids if u.strip()]
        if uuids:
            values.append(("member_uuid", ", ".join(uuids)))
        steps = [s.strip() for s in spec.steps_to_reproduce if s.strip()]
        if steps:
            values.append(("steps_to_reproduce", self._steps(steps)))
        if spec.expected_result.strip() or spec.actual_result.strip():
            expected_actual = self._expected_actual(spec.expected_result, spec.actual_result)
            values.append(("expected_vs_actual", expected_actual))
        for key, value in (
            ("severity", spec.severity),
            ("platform", spec.platform),
            ("support_escalation_type", spec.request_type),
        ):
            if value:
                values.append((key, value))
        return values

    @staticmethod
    def _steps(steps: Sequence[str]) -> _Text:
        plain = " ".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
        return _Text(plain, adf.steps_to_adf(steps), wiki.steps_to_wiki(steps))

    @staticmethod
    def _expected_actual(expected: str, actual: str) -> _Text:
        plain = f"Expected: {expected.strip()} Actual: {actual.strip()}"
        cloud = adf.expected_actual_to_adf(expected, actual)
        return _Text(plain, cloud, wiki.expected_actual_to_wiki(expected, actual))

    @staticmethod
    def _is_option(fld: FieldMeta) -> bool:
        return fld.custom in SINGLE_OPTION_TYPES or fld.custom in MULTI_OPTION_TYPES

    def _format(self, meta: IssueTypeMeta, fld: FieldMeta, key: str, value: str | _Text) -> Any:
        """The value shaped for the field's createmeta type (schema.custom)."""
        label = self.catalog.display_name(key)
        if fld.custom in SINGLE_OPTION_TYPES or fld.custom in MULTI_OPTION_TYPES:
            if isinstance(value, _Text):
                raise self._unsupported(meta, fld, label)
            option = {"value": self._allowed(meta, fld, value, label)}
            return [option] if fld.custom in MULTI_OPTION_TYPES else option
        if fld.custom == "textarea":
            if isinstance(value, _Text):
                return value.cloud if self.flavor == "cloud" else value.datacenter
            return self._rich(value)
        if fld.custom in TEXT_TYPES or (fld.custom is None and fld.type == "string"):
            # Single-line text fields are plain strings in both APIs, even in v3.
            return value.plain if isinstance(value, _Text) else value
        raise self._unsupported(meta, fld, label)

    def rich_text(self, value: str) -> Any:
        """Free text in the flavour's rich-text form (ADF on Cloud, wiki markup on DC)."""
        return self._rich(value)

    def _rich(self, value: str) -> Any:
        # v3 wants ADF in every rich-text field; v2 takes wiki markup.
        return adf.text_to_adf(value) if self.flavor == "cloud" else wiki.text_to_wiki(value)

    def _require_system(self, meta: IssueTypeMeta, field_id: str, label: str) -> FieldMeta:
        fld = meta.fields.get(field_id)
        if fld is None:
            raise TrackerMisconfigured(
                f'Jira\'s "{meta.name}" create screen has no {label} field, which the escalation '
                "policy fills: ask a Jira admin to add it to the screen.",
                vendor="jira",
            )
        return fld

    @staticmethod
    def _allowed(meta: IssueTypeMeta, fld: FieldMeta, value: str, label: str) -> str:
        if not fld.allowed_values:
            return value  # Jira lists no options (e.g. a priority scheme it does not expose): send as is
        found = fld.match_allowed(value)
        if found is None:
            offered = ", ".join(fld.allowed_values)
            raise TrackerMisconfigured(
                f'Jira\'s {label} field ({fld.id}) on "{meta.name}" does not offer "{value}" '
                f"(offered: {offered}): ask a Jira admin to add the option, or align the policy.",
                vendor="jira",
            )
        return found

    def _missing(self, meta: IssueTypeMeta, key: str) -> TrackerMisconfigured:
        label = self.catalog.display_name(key)
        pinned = self.catalog.field_ids.get(key)
        where = f"the field {pinned} pinned for {label}" if pinned else f'a field named "{label}"'
        return TrackerMisconfigured(
            f'Jira\'s "{meta.name}" create screen lacks {where}, which the escalation policy needs: '
            "ask a Jira admin to add it to the screen, or set ESCALINK_JIRA_FIELD_NAMES / "
            "ESCALINK_JIRA_FIELD_IDS to the field's real name or id.",
            vendor="jira",
        )

    @staticmethod
    def _unsupported(meta: IssueTypeMeta, fld: FieldMeta, label: str) -> TrackerMisconfigured:
        kind = fld.custom or fld.type or "unknown"
        return TrackerMisconfigured(
            f'Jira\'s {label} field ({fld.id}, "{fld.name}") on "{meta.name}" is of type {kind}, which '
            "Escalink cannot fill: ask a Jira admin to make it a text or select field as the policy expects.",
            vendor="jira",
        )
