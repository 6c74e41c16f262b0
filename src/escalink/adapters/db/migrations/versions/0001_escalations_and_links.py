"""escalations and links

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent_email", sa.String(320), nullable=False),
        sa.Column("issue_type", sa.String(64), nullable=False),
        sa.Column("area", sa.String(200)),
        sa.Column("request_type", sa.String(200)),
        sa.Column("priority", sa.String(64)),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("jira_issue_id", sa.String(32)),
        sa.Column("jira_key", sa.String(64)),
        sa.Column("error_code", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_escalations_ticket_id", "escalations", ["ticket_id"])
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("jira_issue_id", sa.String(32), nullable=False),
        sa.Column("jira_key", sa.String(64), nullable=False),
        sa.Column("escalation_id", sa.String(36), sa.ForeignKey("escalations.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("ticket_id", "jira_issue_id", name="uq_links_ticket_issue"),
    )
    op.create_index("ix_links_ticket_id", "links", ["ticket_id"])
    op.create_index("ix_links_jira_issue_id", "links", ["jira_issue_id"])


def downgrade() -> None:
    op.drop_table("links")
    op.drop_table("escalations")
