"""Alembic environment: ropa always hands over an open connection (see ropa.db)."""

from alembic import context

from ropa.models import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
