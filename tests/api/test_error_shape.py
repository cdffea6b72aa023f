"""One JSON shape for every API error (STYLE.md point 10): status, type, message; 422 adds the fields."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.support import error_of
from evplatform.api import create_app
from evplatform.api.errors import install_error_handlers
from evplatform.errors import ConflictError, NotFoundError


def test_unknown_route_is_404_in_the_shape(client: TestClient) -> None:
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": {"status": 404, "type": "NotFound", "message": "Not Found"}}


def test_unknown_campaign_names_it(client: TestClient) -> None:
    response = client.get("/api/campaigns/999")
    assert response.status_code == 404
    assert error_of(response) == (404, "NotFound", "no campaign 999")


def _raising(error: Exception) -> TestClient:
    """An application whose one route raises ``error`` from wherever it came (a store, a domain)."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise error

    return TestClient(app)


def test_a_typed_not_found_from_any_layer_is_404_not_found() -> None:
    response = _raising(NotFoundError("release", "hub-os-9.9")).get("/boom")
    assert error_of(response) == (404, "NotFound", "no release hub-os-9.9")


def test_a_typed_conflict_from_any_layer_is_409_conflict() -> None:
    response = _raising(ConflictError("release 'hub-os-1.8.0' already exists")).get("/boom")
    assert error_of(response) == (409, "Conflict", "release 'hub-os-1.8.0' already exists")


def test_unknown_release_and_vehicle_are_typed_404s(client: TestClient) -> None:
    assert error_of(client.get("/api/releases/nope")) == (404, "NotFound", "no release 'nope'")
    assert error_of(client.get("/api/fleet/vehicles/NOPE")) == (404, "NotFound", "no vehicle NOPE")


def test_unauthenticated_write_is_401_with_challenge(client: TestClient) -> None:
    response = client.post("/api/campaigns/1/pause")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    status, kind, message = error_of(response)
    assert (status, kind) == (401, "Unauthenticated")
    assert "Authorization: Bearer" in message


def test_unknown_token_is_401(client: TestClient) -> None:
    response = client.post("/api/campaigns/1/pause", headers={"Authorization": "Bearer not-a-token"})
    assert error_of(response) == (401, "Unauthenticated", "unknown, expired or revoked token")


def test_under_privileged_write_is_403_naming_the_role(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/campaigns/1/pause", headers={"Authorization": f"Bearer {tokens['engineer']}"})
    assert response.status_code == 403
    assert error_of(response) == (
        403, "Forbidden", "account 'engineer' is engineer; this needs release_manager or higher"
    )


def test_malformed_payload_is_422_saying_what_is_wrong(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        "/api/campaigns", headers={"Authorization": f"Bearer {tokens['release_manager']}"},
        json={"release_id": "hub-os-1.7.0", "waves": [{"fraction": 1.5}], "colour": "red"},
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["status"] == 422 and body["type"] == "ValidationError"
    locations = {f["location"] for f in body["fields"]}
    assert locations == {"body.name", "body.waves.0.fraction", "body.colour"}
    assert body["message"].startswith("invalid request: ")
    assert "body.name: Field required" in body["message"]
    assert "body.waves.0.fraction: Input should be less than or equal to 1" in body["message"]
    assert "body.colour: Extra inputs are not permitted" in body["message"]


def test_body_that_is_not_json_is_422(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/campaigns", content=b"{not json",
                           headers={"Authorization": f"Bearer {tokens['release_manager']}",
                                    "Content-Type": "application/json"})
    status, kind, message = error_of(response)
    assert (status, kind) == (422, "ValidationError")
    assert "JSON decode error" in message


def test_domain_conflict_is_409_naming_the_allowed_actions(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/campaigns/1/pause", headers={"Authorization": f"Bearer {tokens['release_manager']}"})
    assert error_of(response) == (
        409, "TransitionRefused",
        "cannot pause campaign 1: it is completed; allowed from completed: retry (stays completed)",
    )


def test_unreachable_database_is_503_store_error(tmp_path: Path) -> None:
    app = create_app(None, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(app) as client:
        response = client.get("/api/fleet/counts")
        status, kind, message = error_of(response)
        assert (status, kind) == (503, "StoreError")
        assert message.startswith("cannot reach the database postgresql+psycopg://nobody@127.0.0.1:1/none")
        assert client.get("/api/platform").status_code == 200  # the rest of the API keeps working


def test_missing_ota_repositories_is_501(client: TestClient) -> None:
    status, kind, message = error_of(client.get("/uptane/image/root.json"))
    assert (status, kind) == (501, "Unavailable")
    assert "--ota-root" in message


def test_bad_query_parameter_is_422(client: TestClient) -> None:
    status, kind, message = error_of(client.get("/api/fleet/vehicles?limit=0"))
    assert (status, kind) == (422, "ValidationError")
    assert "query.limit: Input should be greater than or equal to 1" in message


def test_workspace_error_names_the_file(client: TestClient) -> None:
    status, kind, message = error_of(client.get("/api/bom?trim=nope"))
    assert (status, kind) == (400, "WorkspaceError")
    assert "unknown or ambiguous trim 'nope'" in message
