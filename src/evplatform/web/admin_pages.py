"""Administration pages (issue 16 §4): ``/admin`` (accounts, roles, tokens) and ``/audit`` (the audit log).

Both pages are shells: the dashboard's sign-in keeps the bearer token in the browser (``static/app.js``),
so the server cannot tell who opens a page and renders no account data into it. ``static/admin.js``
asks ``/api/me`` first: a viewer or release manager sees the tools disabled with the 403 the API
gives them, nobody signed in sees the 401; an admin's actions go through the admin API routes
(``api.routers.accounts``), which decide and audit-log everything. The audit page reads
``GET /api/audit`` with the filters of its form (kept in the page's URL, so a filtered view can be
bookmarked) and builds the CSV of what the filters match in the browser from the same API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evplatform.store import ROLES
from evplatform.web.pages import render

router = APIRouter(include_in_schema=False)

#: Audit entries on one page of ``/audit`` (the API allows up to 1,000).
AUDIT_PAGE_SIZE = 50
#: The most entries the CSV export gathers (in pages of 1,000 from the API).
AUDIT_CSV_MAX = 10_000


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request) -> HTMLResponse:
    return render(request, "admin.html", title="Administration", roles=ROLES)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> HTMLResponse:
    return render(request, "audit.html", title="Audit log", page_size=AUDIT_PAGE_SIZE, csv_max=AUDIT_CSV_MAX)
