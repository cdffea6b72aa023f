"""The API reference at ``/docs``, rendered on the server from the application's own OpenAPI schema.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, which a plant network or this project's
machines cannot reach: the page would stay blank. This page needs nothing from outside and
shows what an integrator looks for: each route with its method, summary, parameters, request
body, responses and the role a write needs (from the route's description).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evplatform.web.pages import render

router = APIRouter(include_in_schema=False)

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(content: dict[str, Any] | None) -> str:
    """``Name`` of a ``$ref`` body schema, ``type`` otherwise, ``""`` when there is no JSON body."""
    if not content or "application/json" not in content:
        return ""
    schema = content["application/json"].get("schema", {})
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return f"list of {name}" if "items" in schema else name
    return str(schema.get("type", ""))


def operations(openapi: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (path, method), grouped by the first tag, in the schema's order."""
    rows: list[dict[str, Any]] = []
    for path, item in openapi.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            rows.append({
                "tag": (op.get("tags") or ["other"])[0],
                "method": method.upper(),
                "path": path,
                "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [
                    {"name": p["name"], "in": p["in"], "required": p.get("required", False),
                     "type": p.get("schema", {}).get("type", ""), "description": p.get("description", "")}
                    for p in op.get("parameters", [])
                ],
                "body": _schema_name(op.get("requestBody", {}).get("content")),
                "responses": {code: r.get("description", "") for code, r in op.get("responses", {}).items()},
            })
    return sorted(rows, key=lambda r: r["tag"])


@router.get("/docs", response_class=HTMLResponse)
def api_reference(request: Request) -> HTMLResponse:
    openapi = request.app.openapi()
    rows = operations(openapi)
    tags = list(dict.fromkeys(r["tag"] for r in rows))
    return render(request, "api_docs.html", title="API reference", info=openapi.get("info", {}),
                  tags=tags, rows=rows)
