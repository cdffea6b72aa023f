"""The API reference at /docs is rendered on the server and loads nothing from outside."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from evplatform.web.api_docs import operations


def test_docs_lists_every_operation_of_the_schema(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    schema = client.get("/openapi.json").json()
    rows = operations(schema)
    assert len(rows) > 20
    for row in rows:
        assert f"<code>{row['path']}</code>" in page.text, row["path"]


def test_docs_has_no_external_script_or_stylesheet(client: TestClient) -> None:
    page = client.get("/docs").text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, "the page has links"
    assert [s for s in sources if s.startswith(("http://", "https://", "//"))] == []
    assert client.get("/redoc").status_code == 404


def test_operations_name_bodies_and_parameters() -> None:
    schema = {"paths": {"/x/{vin}": {"post": {
        "tags": ["fleet"], "summary": "Do", "parameters": [{"name": "vin", "in": "path", "required": True,
                                                             "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
        "responses": {"200": {"description": "OK"}}}}}}
    [row] = operations(schema)
    assert (row["method"], row["body"], row["parameters"][0]["required"]) == ("POST", "Thing", True)
