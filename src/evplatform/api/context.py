"""The API's handle on the application context (``evplatform.service.context.AppContext``).

The context itself is shared with the dashboard and lives in ``evplatform.service``; this module
adds what only the HTTP layer needs: the FastAPI dependency and the server's OTA folder default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from evplatform.service.context import ENV_OTA_ROOT, AppContext

__all__ = ["ENV_OTA_ROOT", "ApiContext", "AppContext", "Context", "default_ota_root", "get_context"]

#: The name the routers knew the context by before it moved to ``evplatform.service``.
ApiContext = AppContext


def default_ota_root(workspace: Path | None) -> Path | None:
    """``EVPLATFORM_OTA_ROOT``, else ``.evplatform/ota`` of the workspace (of the current folder for the
    bundled demo) when ``evplatform ota init`` created repositories there, else None."""
    if os.environ.get(ENV_OTA_ROOT):
        return Path(os.environ[ENV_OTA_ROOT])
    base = Path(workspace) if workspace is not None else Path.cwd()
    candidate = base / ".evplatform" / "ota"
    return candidate if (candidate / "image" / "metadata" / "root.json").is_file() else None


def get_context(request: Request) -> AppContext:
    """FastAPI dependency: the application's context."""
    context: AppContext = request.app.state.context
    return context


#: The parameter type of a route that needs the context.
Context = Annotated[AppContext, Depends(get_context)]
