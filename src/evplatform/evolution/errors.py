"""Errors of the evolution domain: which side of a comparison could not be read, and where.

    EvplatformError
    └── EvolutionError         (git is missing, a comparison that cannot be made)
        └── SideError          (one side: unknown revision, not a workspace, a workspace that fails to load)

The CLI maps ``SideError`` to exit code 2 ("the inputs could not be read"), distinct from exit
code 1 ("the gate found a problem"), so a CI job can tell a broken pipeline from a rejected change.
"""

from __future__ import annotations

from evplatform.errors import EvplatformError


class EvolutionError(EvplatformError):
    """A comparison that cannot be made."""


class SideError(EvolutionError):
    """One side of a comparison cannot be read; the message names the side and file:line."""

    def __init__(self, side: str, message: str, file: str | None = None, line: int | None = None) -> None:
        self.side = side
        self.file = file
        self.line = line
        where = ":".join(str(p) for p in (file, line) if p is not None)
        super().__init__(f"{side}: {where + ': ' if where else ''}{message}")
