"""Every API route is documented: a summary in OpenAPI and a row in the route table of docs/api.md (and no more)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

API_PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ADD_ROW = "add the route's row to the route table of docs/api.md (the README is the front page, not the manual)"


def documented_routes() -> set[tuple[str, str]]:
    """``METHOD /path`` pairs of the table rows of docs/api.md; ``a\\|b`` alternatives and queries expanded."""
    rows = "\n".join(line for line in API_PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("|"))
    routes = set()
    for method, path in re.findall(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`]*)`", rows):
        path = re.split(r"\[?\?", path, maxsplit=1)[0]
        head, _, last = path.rpartition("/")
        for alternative in last.split("\\|"):
            routes.add((method, f"{head}/{alternative}"))
    return routes


def test_every_route_has_a_summary_and_a_row_in_docs_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    served = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            served.add((method.upper(), path))
    documented = documented_routes()
    missing = sorted(served - documented)
    assert not missing, f"routes without a row in docs/api.md: {missing}; {ADD_ROW}"
    stale = sorted(documented - served)
    assert not stale, f"rows of docs/api.md without a route: {stale}; remove or correct them"


def test_dashboard_pages_stay_out_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    operations = {"/healthz", "/readyz", "/metrics", "/oauth/token"}  # probes, metrics, OAuth token endpoint
    assert not [p for p in paths if not p.startswith(("/api/", "/uptane/")) and p not in operations]
