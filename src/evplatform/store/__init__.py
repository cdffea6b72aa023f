"""Storage: SQLAlchemy 2 tables, sessions and Alembic migrations (SQLite by default, PostgreSQL).

The only package that knows SQL. Open a database with ``with open_store(url, clock=…) as store:``
(migrates it to the current schema, disposes its connections at the end); the functions of
``store.accounts``, ``store.vehicles``, ``store.releases``, ``store.campaigns`` (campaigns and waves)
and ``store.reports`` (offers and reports per vehicle) take that ``Store`` and hand back frozen
records or numpy columns, never ORM objects. The store's clock is what audit rows and default
timestamps record.

Errors: a missing thing asked for by id is ``NotFoundError``, a write an integrity constraint
refuses is ``ConflictError``, a database that cannot be used is ``StoreError`` (``store._sql``).
Modules import downwards only: ``_sql`` ← ``migrate`` ← ``database`` ← the query modules.
"""

from evplatform.store._sql import redact
from evplatform.store.accounts import (
    DEFAULT_TOKEN_LIFETIME,
    ROLES,
    AccountInfo,
    AuditQuery,
    AuditRecord,
    TokenInfo,
    account_for_token,
    audit_log,
    count_audit,
    create_account,
    issue_token,
    issue_token_record,
    list_accounts,
    list_tokens,
    record_audit,
    revoke_token,
    revoke_tokens,
    set_role,
)
from evplatform.store.database import ENV_URL, Store, default_database_url, open_store
from evplatform.store.migrate import current_revision, head_revision, upgrade

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "ENV_URL",
    "ROLES",
    "AccountInfo",
    "AuditQuery",
    "AuditRecord",
    "Store",
    "TokenInfo",
    "account_for_token",
    "audit_log",
    "count_audit",
    "create_account",
    "current_revision",
    "default_database_url",
    "head_revision",
    "issue_token",
    "issue_token_record",
    "list_accounts",
    "list_tokens",
    "open_store",
    "record_audit",
    "redact",
    "revoke_token",
    "revoke_tokens",
    "set_role",
    "upgrade",
]
