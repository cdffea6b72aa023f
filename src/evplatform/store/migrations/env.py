"""Alembic environment: migrations run on the connection ``store.migrate.upgrade`` hands over."""

from __future__ import annotations

from alembic import context

from evplatform.store.schema import Base

config = context.config
connection = config.attributes.get("connection")
if context.is_offline_mode():  # ``evplatform migrate --sql``: SQL text for review, nothing runs
    context.configure(dialect_name=config.attributes["offline_dialect"], target_metadata=Base.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif connection is None:  # pragma: no cover - only evplatform.store.migrate drives migrations
    raise RuntimeError("run migrations through evplatform.store.migrate.upgrade()")
else:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
