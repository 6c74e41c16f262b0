"""Fixtures: seeded emulators behind TestClient, plus one pair on real loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from escalink.sandbox.jira_app import create_jira_app
from escalink.sandbox.jira_state import JiraState
from escalink.sandbox.recorder import CallRecorder
from escalink.sandbox.runner import Emulators, start_emulators
from escalink.sandbox.seed import Seed, apply_seed, load_seed
from escalink.sandbox.zendesk_app import create_zendesk_app
from escalink.sandbox.zendesk_state import ZendeskState


@pytest.fixture(scope="session")
def seed() -> Seed:
    return load_seed()


@pytest.fixture
def recorder() -> CallRecorder:
    return CallRecorder()


@pytest.fixture
def zstate(seed: Seed) -> ZendeskState:
    state = ZendeskState()
    apply_seed(seed, zendesk=state)
    return state


@pytest.fixture
def jstate(seed: Seed) -> JiraState:
    state = JiraState()
    apply_seed(seed, jira=state)
    return state


@pytest.fixture
def zendesk(zstate: ZendeskState, recorder: CallRecorder, seed: Seed) -> TestClient:
    client = TestClient(create_zendesk_app(zstate, recorder))
    client.auth = (f"{seed.zendesk_api_email}/token", zstate.api_token)
    return client


@pytest.fixture
def jira_cloud(jstate: JiraState, recorder: CallRecorder) -> TestClient:
    client = TestClient(create_jira_app(jstate, recorder))
    client.auth = (jstate.cloud_email, jstate.cloud_api_token)
    return client


@pytest.fixture
def jira_dc(jstate: JiraState, recorder: CallRecorder) -> TestClient:
    return TestClient(create_jira_app(jstate, recorder), headers={"Authorization": f"Bearer {jstate.dc_pat}"})


@pytest.fixture(scope="module")
def live() -> Iterator[Emulators]:
    emulators = start_emulators()
    yield emulators
    emulators.stop()
