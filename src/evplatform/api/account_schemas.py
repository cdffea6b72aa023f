"""Request bodies of the administration routes (accounts, roles, tokens), bounded by their columns.

Names are what ``store.schema.Account.name`` holds (128 characters); a new account's name is
restricted to letters, digits and ``. _ @ -`` so it reads the same in a URL, a log line and the
audit log. Roles are the store's (``store.ROLES``): anything else is a 422 naming the field.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from evplatform.api.schemas import NO_NUL, Strict

#: Longest account name (the column's size).
ACCOUNT_NAME_LENGTH = 128
#: Longest token label (the column's size).
LABEL_LENGTH = 200
#: Longest token lifetime an admin may give from the API (10 years); the API never issues one without expiry.
MAX_TOKEN_DAYS = 3650
#: Shortest token lifetime (one second): a tinier positive float rounds to a zero timedelta, which the
#: store refuses (a fuzzed days=1e-300 once answered 503 StoreError instead of 422).
MIN_TOKEN_DAYS = 1 / 86_400
ACCOUNT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"

Role = Literal["viewer", "engineer", "release_manager", "admin"]


class AccountIn(Strict):
    name: str = Field(min_length=1, max_length=ACCOUNT_NAME_LENGTH, pattern=ACCOUNT_NAME,
                      description="letters, digits and . _ @ -")
    role: Role = "viewer"


class RoleIn(Strict):
    role: Role


class TokenIn(Strict):
    label: str = Field(default="", max_length=LABEL_LENGTH, pattern=NO_NUL,
                       description="what the token is for (revoke by it later)")
    days: float = Field(default=30, ge=MIN_TOKEN_DAYS, le=MAX_TOKEN_DAYS, allow_inf_nan=False,
                        description="days until it expires (the server's clock decides when that is)")
