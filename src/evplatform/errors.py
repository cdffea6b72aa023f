"""One exception root for the whole project, one base per domain.

The tree::

    EvplatformError
    ├── SourceError            (a problem located in a file: file, line, column)
    │   ├── WorkspaceError     (workspace files: platform.yaml, parts.csv, models/, …)
    │   └── ParseError         (feature-model formats: UVL, FeatureIDE XML, DIMACS)
    ├── VariabilityError       (analyses and configuration on a valid model)
    ├── MarketsError
    ├── VehicleError
    ├── OtaError
    ├── FleetError
    ├── InsightsError
    ├── StoreError
    ├── NotFoundError          (a named thing does not exist: campaign, release, vehicle, …)
    ├── ConflictError          (the request contradicts what is stored: duplicate id, wrong state)
    └── InvalidValueError      (a value the database cannot hold: too long, out of range, a NUL)

Library code raises these and never prints or exits; the CLI and the API map them to exit
codes and HTTP statuses in one place each.
"""

from __future__ import annotations

from pathlib import Path


class EvplatformError(Exception):
    """Root of every error the project raises on purpose."""

    http_status = 400


class SourceError(EvplatformError):
    """An error located in a file, so a person can open it at the right line.

    Rendered as ``file:line:column: message`` (line and column when known).
    """

    def __init__(
        self,
        message: str,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        super().__init__(self.location_prefix() + message)

    def location_prefix(self) -> str:
        """``file:line:column: `` with the parts that are known."""
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts) + ": " if parts else ""


class WorkspaceError(SourceError):
    """A workspace file is missing, malformed or inconsistent."""


class ParseError(SourceError):
    """A feature-model file (UVL, XML, DIMACS) or an expression cannot be read."""


class VariabilityError(EvplatformError):
    """An analysis or configuration request that cannot be answered (e.g. a void model)."""


class MarketsError(EvplatformError):
    """A compliance question that cannot be answered (unknown market, bad date)."""


class VehicleError(EvplatformError):
    """A vehicle that cannot exist or a simulation request that makes no sense."""


class OtaError(EvplatformError):
    """A software-delivery failure: verification, signing, storage, installation."""


class FleetError(EvplatformError):
    """A fleet or campaign operation that is not allowed in the current state."""

    http_status = 409


class InsightsError(EvplatformError):
    """Bad business figures, distributions or scenarios."""


class StoreError(EvplatformError):
    """The database cannot be reached or refuses an operation."""

    http_status = 503


class NotFoundError(EvplatformError):
    """A thing asked for by its identifier does not exist (a campaign, release, vehicle, account).

    Typed so that every layer maps it once (the API to 404, the CLI to exit 1) instead of
    matching message text.
    """

    http_status = 404

    def __init__(self, kind: str, identifier: object) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"no {kind} {identifier}")


class ConflictError(EvplatformError):
    """The request contradicts what is stored (a duplicate identifier, a constraint): HTTP 409."""

    http_status = 409


class InvalidValueError(EvplatformError):
    """A value the database cannot hold (a string longer than its column, an integer out of the
    column's range, a NUL character): the request is wrong, not the database, so HTTP 422 — not the
    503 of a ``StoreError``. The API's edge validation refuses these first; this is the backstop."""

    http_status = 422
