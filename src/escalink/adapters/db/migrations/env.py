"""Alembic environment: the URL comes from the Config object built by escalink.adapters.db.store."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from escalink.adapters.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set"

connectable = create_engine(url)
with connectable.connect() as connection:
    # render_as_batch: SQLite cannot ALTER most things, batch mode recreates tables instead.
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
