"""Errors of the evolution domain: which side of a comparison could not be read, and where.

    EvplatformError
    └── EvolutionError         (git is missing, a comparison that cannot be made)
        └── SideError          (one side: unknown revision, not a workspace, a workspace that fails to load)

The CLI maps ``SideError`` to exit code 2 ("the inputs could not be read"), distinct from exit
code 1 ("the gate found a problem"), so a CI job can tell a broken pipeline from a rejected change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evplatform.errors import EvplatformError

if TYPE_CHECKING:
    from evplatform.variability.model import FeatureModel


class EvolutionError(EvplatformError):
    """A comparison that cannot be made."""


class SideError(EvolutionError):
    """One side of a comparison cannot be read; the message names the side and file:line.

    ``feature_model`` is that side's feature model when the workspace as a whole does not load but
    its ``features.uvl`` does: the feature models can still be compared.
    """

    def __init__(self, side: str, message: str, file: str | None = None, line: int | None = None,
                 feature_model: FeatureModel | None = None) -> None:
        self.side = side
        self.file = file
        self.line = line
        self.feature_model = feature_model
        where = ":".join(str(p) for p in (file, line) if p is not None)
        super().__init__(f"{side}: {where + ': ' if where else ''}{message}")
