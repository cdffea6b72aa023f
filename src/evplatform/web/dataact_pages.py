"""EU Data Act pages: the owner portal (``/owner``) and the operators' data recipients page.

The owner portal is a page of its own, outside the operators' navigation: an owner signs in with
an owner token (kept under its own browser key, never the operators'), and the page's script reads
and writes through ``/api/owner`` — nothing of an owner's data is rendered on the server without
their token. The recipients page lists the registered data recipients (server-rendered) and lets
an admin register one (the client secret is shown once).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evplatform.errors import EvplatformError
from evplatform.store import dataact as db
from evplatform.web.pages import context_of, error_page, render

router = APIRouter(include_in_schema=False)


@router.get("/owner", response_class=HTMLResponse)
def owner_page(request: Request) -> HTMLResponse:
    """The owner portal: vehicle data, export, consents (grant, revoke), the access log."""
    return render(request, "owner.html", title="Your vehicle data")


@router.get("/data-recipients", response_class=HTMLResponse)
def recipients_page(request: Request) -> HTMLResponse:
    """Registered data recipients (third parties owners may share data with)."""
    try:
        rows = db.list_recipients(context_of(request).store())
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "data_recipients.html", title="Data recipients", recipients=rows)
