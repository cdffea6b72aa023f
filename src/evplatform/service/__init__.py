"""The application layer shared by the API (``evplatform.api``) and the dashboard (``evplatform.web``).

``context.AppContext`` holds what a request needs (workspace, database, clock, caches);
``views`` and ``presenters`` turn domain values into the JSON-ready payloads that the routes
return and the pages draw. Neither the API nor the dashboard imports the other's modules for
these, so the two stay independent (import-linter contracts in pyproject.toml keep it so).
No domain rules live here: every number comes from a domain package.
"""
