"""Helpers shared by the API and browser tests (imported as ``api.support``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

DEMO_VEHICLES = 300  # the size of the test demo database


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """(status, type, message) of an error response, checking the one shape on the way."""
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"status", "type", "message"} <= set(error), error
    assert error["status"] == response.status_code
    return error["status"], error["type"], error["message"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class KeyedVehicle:
    vin: str
    key: SigningKey
    market: str


def new_campaign(client: TestClient, token: str, approver: str, **extra: Any) -> dict[str, Any]:
    """Release hub-os 1.8.0 registered by ``token``'s account, approved in China by ``approver``'s (a second
    person: four-eyes, issue 14 item 15), rolled out there in one wave by ``token``'s."""
    headers = bearer(token)
    assert client.post("/api/releases", json={"id": "hub-os-1.8.0", "component": "hub-os", "version": "1.8.0"},
                       headers=headers).status_code == 201
    approval = {"market": "CN", "authority": "MIIT", "reference": "GB44496-2026-001"}
    response = client.post("/api/releases/hub-os-1.8.0/approvals", json=approval, headers=bearer(approver))
    assert response.status_code == 201, response.text
    body = {"name": "hub-os 1.8.0 China", "release_id": "hub-os-1.8.0", "target": {"markets": ["CN"]},
            "waves": [{"fraction": 1.0}], "start": True, **extra}
    response = client.post("/api/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
