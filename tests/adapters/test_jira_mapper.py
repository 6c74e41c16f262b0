"""IssueSpec -> create `fields`, per issue type and flavor, checked against create metadata."""

from __future__ import annotations

import dataclasses

import pytest
from adapter_fakes import FakeJira, esca_issue_types, jira_http, sample_issue_types

from escalink.adapters.jira import adf, wiki
from escalink.adapters.jira.fields import FieldCatalog
from escalink.adapters.jira.mapper import IssueMapper
from escalink.config import DEFAULT_JIRA_FIELD_NAMES
from escalink.domain.errors import TrackerMisconfigured
from escalink.domain.records import IssueSpec

BUG = IssueSpec(
    project_key="ESCA",
    issue_type="Bug",
    summary="Settings page shows 403",
    description="Member cannot open settings.",
    reporter_email="robin.finch@example.com",
    member_uuids=("3f1c2a9e-0b1d-4c2e-9a7b-5d6e7f8a9b0c", "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d"),
    steps_to_reproduce=("Opened app", "Clicked settings", "Saw 403 error message"),
    expected_result="Settings open",
    actual_result="A 403 error shows",
    severity="High",
    priority="Critical",
    platform="iOS",
    labels=("escalink",),
)
SERVICE = IssueSpec(
    project_key="ESCA",
    issue_type="[System] Service Request",
    summary="Update starting weight",
    description="",
    reporter_email="robin.finch@example.com",
    member_uuids=("3f1c2a9e-0b1d-4c2e-9a7b-5d6e7f8a9b0c",),
    request_type="Technical Execution",
    labels=("escalink",),
)


def mapper(
    flavor: str = "cloud",
    issue_types: list | None = None,
    names: dict | None = None,
    ids: dict | None = None,
    project: str = "ESCA",
) -> IssueMapper:
    fake = FakeJira(flavor=flavor, issue_types=issue_types or esca_issue_types(), project_key=project)
    http = jira_http(fake.transport())
    prefix = "/rest/api/3" if flavor == "cloud" else "/rest/api/2"
    cat = FieldCatalog(http, prefix, field_names=names or dict(DEFAULT_JIRA_FIELD_NAMES), field_ids=ids)
    return IssueMapper(cat, flavor)  # type: ignore[arg-type]


def test_bug_on_cloud() -> None:
    mapped = mapper("cloud").map(BUG, reporter="5b10ac8d82e05b22cc7d4ef5")
    assert mapped.omitted == ()
    assert mapped.fields == {
        "project": {"key": "ESCA"},
        "issuetype": {"id": "10100"},
        "summary": "Settings page shows 403",
        "description": adf.text_to_adf("Member cannot open settings."),
        "priority": {"name": "Critical"},
        "labels": ["escalink"],
        "reporter": {"accountId": "5b10ac8d82e05b22cc7d4ef5"},
        "customfield_10050": "3f1c2a9e-0b1d-4c2e-9a7b-5d6e7f8a9b0c, 8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d",
        "customfield_10051": adf.steps_to_adf(BUG.steps_to_reproduce),
        "customfield_10052": adf.expected_actual_to_adf("Settings open", "A 403 error shows"),
        "customfield_10053": {"value": "High"},
        "customfield_10054": {"value": "iOS"},
    }
    assert "assignee" not in mapped.fields


def test_bug_on_data_center() -> None:
    fields = mapper("datacenter").map(BUG, reporter="rfinch").fields
    assert fields["reporter"] == {"name": "rfinch"}
    assert fields["description"] == "Member cannot open settings."
    assert fields["customfield_10051"] == "# Opened app\n# Clicked settings\n# Saw 403 error message"
    assert fields["customfield_10052"] == "*Expected:* Settings open\n\n*Actual:* A 403 error shows"
    assert fields["customfield_10050"].count(", ") == 1
    assert fields["customfield_10053"] == {"value": "High"} and fields["priority"] == {"name": "Critical"}


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_service_request(flavor: str) -> None:
    mapped = mapper(flavor).map(SERVICE, reporter="x")
    assert mapped.fields["issuetype"] == {"id": "10200"}
    assert mapped.fields["customfield_10055"] == {"value": "Technical Execution"}
    assert "description" not in mapped.fields  # empty: left out rather than sent blank
    assert not any(k in mapped.fields for k in ("priority", "customfield_10053", "customfield_10054"))


def test_request_type_spelled_differently_is_sent_in_jiras_spelling() -> None:
    offered = ["Document Processing Support (Lab, Medical Record, etc.)", "Technical Execution"]
    spec = dataclasses.replace(SERVICE, request_type="Document Processing Support (Lab, Medical Record, etc)")
    fields = mapper(issue_types=esca_issue_types(request_types=offered)).map(spec, reporter="x").fields
    assert fields["customfield_10055"] == {"value": offered[0]}


def test_uncategorized_is_left_blank_when_jira_does_not_offer_it() -> None:
    spec = dataclasses.replace(SERVICE, request_type="Uncategorized", request_type_optional=True)
    mapped = mapper().map(spec, reporter="x")
    assert "customfield_10055" not in mapped.fields
    assert mapped.omitted == ("request_type",)


def test_uncategorized_is_sent_when_jira_offers_it() -> None:
    spec = dataclasses.replace(SERVICE, request_type="Uncategorized", request_type_optional=True)
    types = esca_issue_types(request_types=["Operations Support", "Uncategorized"])
    mapped = mapper(issue_types=types).map(spec, reporter="x")
    assert mapped.fields["customfield_10055"] == {"value": "Uncategorized"} and mapped.omitted == ()


def test_a_value_not_offered_names_the_field_and_the_offered_values() -> None:
    spec = dataclasses.replace(SERVICE, request_type="Payroll")
    with pytest.raises(TrackerMisconfigured) as err:
        mapper().map(spec, reporter="x")
    assert "Support Escalation Type" in err.value.message and "customfield_10055" in err.value.message
    assert "offered: Operations Support, Document Processing Support" in err.value.message


@pytest.mark.parametrize(
    ("field", "value"), [("severity", "Urgent"), ("platform", "Windows"), ("priority", "Highest")]
)
def test_bug_values_are_checked_against_allowed_values(field: str, value: str) -> None:
    with pytest.raises(TrackerMisconfigured, match=f'does not offer "{value}"'):
        mapper().map(dataclasses.replace(BUG, **{field: value}), reporter="x")


def test_a_needed_field_missing_from_the_screen_is_a_misconfiguration() -> None:
    types = esca_issue_types()
    types[0]["fields"] = [f for f in types[0]["fields"] if f["name"] != "Severity"]
    with pytest.raises(TrackerMisconfigured, match='lacks a field named "Severity"'):
        mapper(issue_types=types).map(BUG, reporter="x")


def test_missing_system_field_is_a_misconfiguration() -> None:
    types = esca_issue_types()
    types[0]["fields"] = [f for f in types[0]["fields"] if f["fieldId"] != "priority"]
    with pytest.raises(TrackerMisconfigured, match="no Priority field"):
        mapper(issue_types=types).map(BUG, reporter="x")


def test_reporter_unknown_or_off_screen_is_omitted_not_fatal() -> None:
    assert mapper().map(BUG, reporter=None).omitted == ("reporter",)
    off_screen = mapper(issue_types=esca_issue_types(reporter_on_screen=False)).map(BUG, reporter="abc")
    assert "reporter" not in off_screen.fields and off_screen.omitted == ("reporter",)


def test_uncategorized_with_the_field_missing_entirely_is_omitted() -> None:
    types = esca_issue_types()
    types[1]["fields"] = [f for f in types[1]["fields"] if f["name"] != "Support Escalation Type"]
    spec = dataclasses.replace(SERVICE, request_type="Uncategorized", request_type_optional=True)
    assert mapper(issue_types=types).map(spec, reporter="x").omitted == ("request_type",)


SAMPLE_NAMES = {
    "member_uuid": "Text Field 2",
    "steps_to_reproduce": "Text Field 1",
    "expected_vs_actual": "Favorite Food",
    "severity": "MJK - Select List 3",
    "platform": "MJK - Radio Buttons",
    "support_escalation_type": "MJK - Select List 2",
}


@pytest.mark.parametrize("flavor", ["cloud", "datacenter"])
def test_types_from_real_cloud_metadata(flavor: str) -> None:
    m = mapper(
        flavor,
        sample_issue_types("cloud-get-create-issue-metadata-for-project.json"),
        names=SAMPLE_NAMES,
        project="KT",
    )
    spec = dataclasses.replace(
        BUG, project_key="KT", severity="2", platform="1", priority="High", request_type="1"
    )
    mapped = m.map(spec, reporter="x")
    f = mapped.fields
    assert f["issuetype"] == {"id": "10004"}
    assert f["customfield_10076"] == {"value": "2"}  # select
    assert f["customfield_10073"] == {"value": "1"}  # radio buttons
    assert f["customfield_10075"] == [{"value": "1"}]  # multiselect
    assert f["customfield_10078"] == BUG.member_uuids[0] + ", " + BUG.member_uuids[1]  # textfield
    # A textfield cannot hold a list: the labelled text is sent on one line.
    assert f["customfield_10067"] == "Expected: Settings open Actual: A 403 error shows"
    steps = f["customfield_10077"]  # textarea
    assert steps == (
        adf.steps_to_adf(BUG.steps_to_reproduce)
        if flavor == "cloud"
        else wiki.steps_to_wiki(BUG.steps_to_reproduce)
    )
    assert mapped.omitted == ("reporter",)  # this site's screens have no Reporter field


def test_a_field_of_a_type_escalink_cannot_fill_is_reported() -> None:
    names = dict(SAMPLE_NAMES, severity="MJK - Date Picker")
    m = mapper(
        issue_types=sample_issue_types("cloud-get-create-issue-metadata-for-project.json"),
        names=names,
        project="KT",
    )
    with pytest.raises(TrackerMisconfigured, match="of type datepicker"):
        m.map(
            dataclasses.replace(BUG, project_key="KT", severity="High", platform="1", priority="High"),
            reporter=None,
        )
