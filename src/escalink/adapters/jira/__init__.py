"""Jira adapter: JiraTracker implements the Tracker port for Cloud (REST v3) and Data Center (REST v2)."""

from escalink.adapters.jira.client import JiraTracker

__all__ = ["JiraTracker"]
