"""JSON-ready payloads of the fleet list and saved groups, shared by the API, the pages and the CLI."""

from __future__ import annotations

from typing import Any

from evplatform.fleet.groups import GroupView
from evplatform.fleet.listing import FleetPage, ListedVehicle
from evplatform.service.views import iso, vehicle_view


def listed_view(listed: ListedVehicle) -> dict[str, Any]:
    """A vehicle of the list: ``vehicle_view`` plus when it was last seen and its crashes in 7 days."""
    return {**vehicle_view(listed.record), "last_seen": iso(listed.last_seen), "crashes_7d": listed.crashes_7d}


def page_view(page: FleetPage) -> dict[str, Any]:
    """The page with its paging facts; ``note`` explains an empty page past the end."""
    return {
        "total": page.total, "limit": page.limit, "offset": page.offset, "query": page.query,
        "sort": page.sort, "order": "desc" if page.descending else "asc", "page": page.page, "pages": page.pages,
        "note": page.note, "vehicles": [listed_view(v) for v in page.vehicles],
    }


def group_view(group: GroupView) -> dict[str, Any]:
    return group.to_dict()
