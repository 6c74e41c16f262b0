"""Field discovery by name on real create metadata (Cloud and Server samples), paging, overrides, cache."""

from __future__ import annotations

import pytest
from adapter_fakes import FakeJira, esca_issue_types, jira_http, sample_issue_types

from escalink.adapters.jira.fields import FieldCatalog, FieldMeta
from escalink.config import DEFAULT_JIRA_FIELD_NAMES
from escalink.domain.errors import TrackerMisconfigured

CLOUD_SAMPLES = [
    "cloud-get-create-issue-metadata-for-project.json",
    "cloud-get-create-issue-metadata-for-project-many-fields.json",
]
SERVER_SAMPLES = [
    "server-get-create-issue-metadata-for-project.json",
    "server-get-create-issue-metadata-for-project-many-fields.json",
]
# Names chosen among the sample's real fields, written with other case and punctuation.
SAMPLE_NAMES = {
    "member_uuid": "text field 2",
    "steps_to_reproduce": "TEXT FIELD 1",
    "expected_vs_actual": "Favorite  Food!",
    "severity": "mjk select list 3",
    "platform": "MJK-Radio Buttons",
    "support_escalation_type": "MJK - Select List 2",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def catalog(
    fake: FakeJira,
    names: dict[str, str],
    ids: dict[str, str] | None = None,
    clock: Clock | None = None,
    ttl: float = 3600.0,
) -> FieldCatalog:
    http = jira_http(fake.transport())
    prefix = "/rest/api/3" if fake.flavor == "cloud" else "/rest/api/2"
    return FieldCatalog(
        http, prefix, field_names=names, field_ids=ids, cache_seconds=ttl, monotonic=clock or Clock()
    )


@pytest.mark.parametrize("sample", CLOUD_SAMPLES)
@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_custom_fields_found_by_name_in_real_cloud_metadata(sample: str, flavor: str) -> None:
    fake = FakeJira(flavor=flavor, issue_types=sample_issue_types(sample), project_key="KT", page_size=7)
    cat = catalog(fake, SAMPLE_NAMES)
    bug = cat.issue_type("KT", "bug")
    assert bug.id == "10004" and bug.name == "Bug"
    found = {key: cat.resolve(bug, key) for key in SAMPLE_NAMES}
    assert {k: (f.id, f.custom) for k, f in found.items() if f} == {
        "member_uuid": ("customfield_10078", "textfield"),
        "steps_to_reproduce": ("customfield_10077", "textarea"),
        "expected_vs_actual": ("customfield_10067", "textfield"),
        "severity": ("customfield_10076", "select"),
        "platform": ("customfield_10073", "radiobuttons"),
        "support_escalation_type": ("customfield_10075", "multiselect"),
    }
    assert found["severity"] and found["severity"].allowed_values == ("1", "2")
    assert bug.fields["priority"].allowed_values == ("Highest", "High", "Medium", "Low", "Lowest")
    # 29 fields in pages of 7: every page was read.
    assert len(bug.fields) == 29


@pytest.mark.parametrize("sample", SERVER_SAMPLES)
def test_server_metadata_in_data_center_pages(sample: str) -> None:
    fake = FakeJira(
        flavor="datacenter", issue_types=sample_issue_types(sample), project_key="HEY", page_size=3
    )
    name, expected = ("epic-link", "customfield_10201") if "many" in sample else ("due date", "duedate")
    cat = catalog(fake, {"member_uuid": name, "severity": "Severity"})
    task = cat.issue_type("HEY", "Task")
    assert task.fields["reporter"].required and task.fields["summary"].type == "string"
    found = cat.resolve(task, "member_uuid")
    assert found is not None and found.id == expected
    # The real default names are not on this site's screens: nothing is invented.
    assert cat.resolve(task, "severity") is None
    # Sub-tasks need a parent, so they are never offered as an escalation type.
    with pytest.raises(TrackerMisconfigured, match='no issue type "Sub-task"'):
        cat.issue_type("HEY", "Sub-task")


def test_server_sample_without_custom_fields_resolves_nothing() -> None:
    fake = FakeJira(flavor="datacenter", issue_types=sample_issue_types(SERVER_SAMPLES[0]), project_key="HEY")
    cat = catalog(fake, dict(DEFAULT_JIRA_FIELD_NAMES))
    task = cat.issue_type("HEY", "task")
    assert all(cat.resolve(task, key) is None for key in DEFAULT_JIRA_FIELD_NAMES)


def test_pinned_ids_win_over_names() -> None:
    fake = FakeJira(issue_types=sample_issue_types(CLOUD_SAMPLES[0]), project_key="KT")
    cat = catalog(fake, SAMPLE_NAMES, ids={"severity": "customfield_10073", "platform": "customfield_99999"})
    bug = cat.issue_type("KT", "Bug")
    severity = cat.resolve(bug, "severity")
    assert severity is not None and severity.name == "MJK - Radio Buttons"
    assert cat.resolve(bug, "platform") is None  # pinned to a field this screen lacks


def test_default_names_match_the_esca_project_loosely() -> None:
    cat = catalog(FakeJira(), dict(DEFAULT_JIRA_FIELD_NAMES))
    bug = cat.issue_type("ESCA", "Bug")
    # "Expected vs. Actual Result" (settings) finds "Expected vs Actual Result" (site).
    ev = cat.resolve(bug, "expected_vs_actual")
    assert ev is not None and ev.id == "customfield_10052"
    sr = cat.issue_type("ESCA", "[system] service request")
    set_ = cat.resolve(sr, "support_escalation_type")
    assert set_ is not None and "Technical Execution" in set_.allowed_values


def test_ambiguous_names_ask_for_a_pinned_id() -> None:
    types = esca_issue_types()
    dup = dict(types[0]["fields"][-1], fieldId="customfield_20000", key="customfield_20000")
    types[0]["fields"].append(dup)  # a second "Platform"
    cat = catalog(FakeJira(issue_types=types), dict(DEFAULT_JIRA_FIELD_NAMES))
    with pytest.raises(TrackerMisconfigured, match="ESCALINK_JIRA_FIELD_IDS"):
        cat.resolve(cat.issue_type("ESCA", "Bug"), "platform")


def test_unknown_issue_type_names_the_offered_ones() -> None:
    cat = catalog(FakeJira(), {})
    with pytest.raises(TrackerMisconfigured, match=r"offered: Bug, \[System\] Service Request"):
        cat.issue_type("ESCA", "Story")


def test_discovery_is_cached_until_the_ttl() -> None:
    fake, clock = FakeJira(page_size=50), Clock()
    cat = catalog(fake, dict(DEFAULT_JIRA_FIELD_NAMES), clock=clock, ttl=600)
    cat.issue_type("ESCA", "Bug")
    first = len(fake.requests)
    assert first == 2
    for _ in range(5):
        cat.issue_type("ESCA", "Bug")
    assert len(fake.requests) == first
    clock.now += 601
    cat.issue_type("ESCA", "Bug")
    assert len(fake.requests) == 2 * first


def test_field_meta_matches_allowed_values_loosely_but_uniquely() -> None:
    meta = FieldMeta(
        "customfield_1",
        "Type",
        False,
        "option",
        "select",
        None,
        ("Document Processing Support (Lab, Medical Record, etc.)", "Technical Execution"),
    )
    assert meta.match_allowed("Document Processing Support (Lab, Medical Record, etc)") == (
        "Document Processing Support (Lab, Medical Record, etc.)"
    )
    assert meta.match_allowed("technical execution") == "Technical Execution"
    assert meta.match_allowed("Uncategorized") is None
