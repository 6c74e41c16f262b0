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
    sync_poll_seconds: float = Field(1.0, description="How often stored webhook events are looked at")
    roles: dict[str, str] = Field(
        default_factory=dict,
        description='Who is tier2/admin: keys are Zendesk user ids, "group:<id>" or e-mails; agent by default',
    )
    jira_attachment_max_bytes: int = Field(
        10 * 1024 * 1024, description="Larger attachments are sent to Jira as their Zendesk address instead"
    )

    http_timeout_seconds: float = 10.0
    http_max_attempts: int = 4
    http_max_retry_wait_seconds: float = 120.0
    discovery_cache_seconds: float = 3600.0


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
