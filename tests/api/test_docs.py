"""Every API route is documented: a summary in OpenAPI and a row in the README's route table (and no more)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_routes() -> set[tuple[str, str]]:
    """``METHOD /path`` pairs of the README's REST section; ``a\\|b`` alternatives and queries expanded."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## REST API and dashboard", 1)[1].split("\n## ", 1)[0]
    routes = set()
    for method, path in re.findall(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`]*)`", section):
        path = re.split(r"\[?\?", path, maxsplit=1)[0]
        head, _, last = path.rpartition("/")
        for alternative in last.split("\\|"):
            routes.add((method, f"{head}/{alternative}"))
    return routes


def test_every_route_has_a_summary_and_a_readme_row(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    served = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            served.add((method.upper(), path))
    documented = readme_routes()
    assert served - documented == set(), "routes missing from the README"
    assert documented - served == set(), "README rows without a route"


def test_dashboard_pages_stay_out_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith(("/api/", "/uptane/"))]
