"""Settings, read from the environment (prefix ESCALINK_) and an optional .env file.

Every setting is listed in the README and in .env.example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_JIRA_FIELD_NAMES: dict[str, str] = {
    "member_uuid": "Member UUID",
    "steps_to_reproduce": "Steps to Reproduce",
    "expected_vs_actual": "Expected vs. Actual Result",
    "severity": "Severity",
    "platform": "Platform",
    "support_escalation_type": "Support Escalation Type",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ESCALINK_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///./escalink.db", description="Any SQLAlchemy URL")
    policy_file: Path | None = Field(None, description="Your own policy YAML; the shipped one if unset")
    log_level: str = "INFO"
    public_url: str = Field("http://127.0.0.1:8000", description="Where Escalink itself is reachable")
    api_token: SecretStr = Field(
        SecretStr(""), description="When set, /api requests need 'Authorization: Bearer <token>'"
    )
    ui_session_secret: SecretStr = Field(
        SecretStr(""), description="Signs sidebar session cookies; set one value on every process (random if unset)")
    ui_session_hours: float = Field(8.0, description="How long a sidebar session lasts before Zendesk must sign again")
    zaf_public_key: str = Field(
        "", description="Public key of the Zendesk app (its public_key.pem): PEM text or a path to the file; "
        "without it the sidebar refuses every sign-in")
    zaf_issuer: str = Field(
        "", description='Expected "iss" of Zendesk\'s token: the account host, e.g. "acme.zendesk.com" '
        "(the host of zendesk_url if unset)")
    zaf_audience: str = Field(
        "", description='Expected "aud" of Zendesk\'s token: the app installation, '
        "https://SUBDOMAIN.zendesk.com/api/v2/apps/installations/<installation id>.json")
    links_cache_seconds: float = Field(30.0, description="How long live Jira details of linked issues are reused")

    zendesk_url: str = Field("", description="https://SUBDOMAIN.zendesk.com")
    zendesk_email: str = ""
    zendesk_api_token: SecretStr = SecretStr("")
    zendesk_linked_issues_field_id: int | None = Field(
        None, description="Ticket custom field that lists linked Jira keys (optional)"
    )
    zendesk_escalation_tags: list[str] = Field(default_factory=lambda: ["jira_escalated"])
    hold_after_escalation: bool = True

    jira_url: str = Field("", description="https://SITE.atlassian.net or your Data Center base URL")
    jira_flavor: Literal["cloud", "datacenter"] = "cloud"
    jira_email: str = Field("", description="Cloud: the account e-mail used with the API token")
    jira_api_token: SecretStr = Field(SecretStr(""), description="Cloud: API token")
    jira_pat: SecretStr = Field(SecretStr(""), description="Data Center: personal access token")
    jira_field_names: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_JIRA_FIELD_NAMES))
    jira_field_ids: dict[str, str] = Field(
        default_factory=dict,
        description="Override discovered custom field ids, e.g. {\"severity\": \"customfield_10042\"}",
    )
    jira_label: str = "escalink"

    jira_webhook_secret: SecretStr = Field(SecretStr(""), description="Secret of the Jira webhook (X-Hub-Signature)")
    zendesk_webhook_secret: SecretStr = Field(SecretStr(""), description="Signing secret of the Zendesk webhook")
    sync_coalesce_seconds: float = Field(
        5.0, description="Jira events for one ticket arriving within this window become one Zendesk update"
    )
    sync_poll_seconds: float = Field(
        1.0, description="How often each process sweeps: overdue jobs, stored webhooks, reconciliation (0: never)")
    roles: dict[str, str] = Field(
        default_factory=dict,
        description='Who is tier2/admin: keys are Zendesk user ids, "group:<id>" or e-mails; agent by default',
    )
    jira_attachment_max_bytes: int = Field(
        10 * 1024 * 1024, description="Larger attachments are sent to Jira as their Zendesk address instead"
    )

    jobs_backend: Literal["embedded", "redis", "immediate"] = Field(
        "embedded", description="embedded: queue in a SQLite file, workers inside `escalink serve`; redis: "
        "`escalink worker` processes anywhere; immediate: jobs run in the request (tests)")
    redis_url: str = Field("", description="redis://host:6379/0 when jobs_backend is redis")
    jobs_queue_path: str | None = Field(None, description="Embedded queue file; beside a SQLite database if unset")
    jobs_workers: int = Field(2, description="Worker threads per process (embedded consumer or `escalink worker`)")
    jobs_max_attempts: int = Field(8, description="Attempts before a job is dead-lettered")
    jobs_lease_seconds: float = Field(
        30.0, gt=0, description="A running job whose worker vanished is taken over after this; a live worker "
        "renews its leases every third of it")
    jobs_backoff_max_seconds: float = Field(600.0, description="Longest wait between two attempts of a job")
    escalate_wait_seconds: float = Field(
        20.0, description="How long an escalation request waits for its jobs before answering 202 (queued)")
    reconcile_seconds: float = Field(
        300.0, description="How often Jira is asked for issues updated since the last sync (0: never)")
    reconcile_overlap_seconds: float = Field(
        300.0, description="How far before the last sync each reconciliation looks again (Jira's index lags)")

    http_timeout_seconds: float = 10.0
    http_max_attempts: int = 4
    http_max_retry_wait_seconds: float = Field(
        10.0, description="A vendor asking to wait longer fails the call at once with its retry time; jobs are "
        "rescheduled for then, requests answer 202 (queued) or \"try again in N seconds\"")
    discovery_cache_seconds: float = 3600.0


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
