"""Every storage test runs on SQLite and on PostgreSQL (fixtures in tests/store_fixtures.py)."""

from __future__ import annotations

from store_fixtures import db_url, postgres_url, store  # noqa: F401
