"""Storage: SQLAlchemy 2 tables, sessions and Alembic migrations (SQLite by default, PostgreSQL).

The only package that knows SQL. Open a database with ``open_store(url)`` (migrates it to the
current schema); the functions of ``store.accounts``, ``store.vehicles`` and ``store.campaigns``
take the returned ``Store`` and hand back frozen records or numpy columns, never ORM objects.
"""

from evplatform.store.accounts import (
    ROLES,
    AccountInfo,
    AuditRecord,
    account_for_token,
    audit_log,
    create_account,
    issue_token,
    list_accounts,
    record_audit,
    revoke_tokens,
)
from evplatform.store.database import ENV_URL, Store, default_database_url, open_store, redact
from evplatform.store.migrate import current_revision, head_revision, upgrade

__all__ = [
    "ENV_URL",
    "ROLES",
    "AccountInfo",
    "AuditRecord",
    "Store",
    "account_for_token",
    "audit_log",
    "create_account",
    "current_revision",
    "default_database_url",
    "head_revision",
    "issue_token",
    "list_accounts",
    "open_store",
    "record_audit",
    "redact",
    "revoke_tokens",
    "upgrade",
]
