"""durable jobs (outbox), sync cursors, noted comments, escalation idempotency keys, inbound write marks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("ticket_id", sa.Integer, index=True),
        sa.Column("ordered", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("escalation_id", sa.String(36), index=True),
        sa.Column("delivery_id", sa.Integer, index=True),
        sa.Column("dedupe_key", sa.String(200)),
        sa.Column("payload", sa.JSON),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_try_at", TS, index=True),
        sa.Column("lease_until", TS),
        sa.Column("leased_by", sa.String(64)),
        sa.Column("error_code", sa.String(64)),
        sa.Column("last_error", sa.String(500)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "noted_comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("jira_issue_id", sa.String(32), nullable=False),
        sa.Column("comment_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("ticket_id", "jira_issue_id", "comment_id", "kind", name="uq_noted_comment"),
    )
    with op.batch_alter_table("inbound_events") as batch:
        batch.add_column(sa.Column("started_at", TS))
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(128)))
        batch.create_unique_constraint("uq_escalations_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_constraint("uq_escalations_idempotency_key", type_="unique")
        batch.drop_column("idempotency_key")
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("started_at")
    op.drop_table("noted_comments")
    op.drop_table("sync_cursors")
    op.drop_table("jobs")
