"""The insights domain's located error: an ``InsightsError`` that also names file, line and field.

Business figures need not come from a workspace, so a bad CSV row there is not a
``WorkspaceError``; it is still a ``SourceError`` so the CLI and API render ``file:line: …``.
"""

from __future__ import annotations

from evplatform.errors import InsightsError, SourceError


class InsightsSourceError(InsightsError, SourceError):
    """Bad business figures, distributions or scenarios, located in their file."""
