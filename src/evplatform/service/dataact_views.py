"""What the API and the dashboard share of the Data Act portal: the category catalogue, owner sign-in.

Owners are a separate account kind (``store.dataact``): their tokens never admit an operator
route, and operators' tokens never admit an owner route.
"""

from __future__ import annotations

import os
import secrets

from evplatform.apps.manifest import load_apps
from evplatform.apps.model import AppCatalogue
from evplatform.dataact.categories import collected
from evplatform.service.context import AppContext
from evplatform.store import dataact as db

#: The secret of the analytics pseudonyms (a keyed hash of the VIN); without it, one per process.
ENV_PSEUDONYM_KEY = "EVPLATFORM_PSEUDONYM_KEY"
_PROCESS_KEY = secrets.token_bytes(32)


def catalogue(context: AppContext) -> AppCatalogue:
    return context.cached(("dataact-catalogue",), lambda: load_apps(context.workspace()))


def scopes(context: AppContext) -> tuple[str, ...]:
    """The OAuth scopes of the data API: the categories the platform collects."""
    return tuple(collected(catalogue(context)))


def owner_for(context: AppContext, token: str | None) -> db.OwnerInfo | None:
    if not token:
        return None
    store = context.store()
    return db.owner_for_token(store, token, store.now())


def pseudonym_key() -> bytes:
    text = os.environ.get(ENV_PSEUDONYM_KEY)
    return text.encode() if text else _PROCESS_KEY
