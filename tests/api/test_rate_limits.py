"""Issue 18 §2: per-vehicle and per-token rate limits answer 429 in the one error shape with Retry-After,
and two applications on one database (two server processes) share one budget."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from fastapi.testclient import TestClient

from api.support import KeyedVehicle, bearer, error_of
from evplatform.api import create_app
from evplatform.api.auth import sign_request
from evplatform.service.rate_limits import RateLimit, RateLimits

CHECK = "/api/vehicle/update-check"
#: An hour: a test crossing a window edge (which resets the counts) is one in hundreds, not one in ten.
WINDOW = 3600


def _clients(db_url: str, limits: RateLimits, count: int = 1) -> Iterator[list[TestClient]]:
    with ExitStack() as stack:
        yield [stack.enter_context(TestClient(create_app(None, db_url, rate_limits=limits))) for _ in range(count)]


@pytest.fixture
def two_apps(db_url: str) -> Iterator[list[TestClient]]:
    """Two applications, each with its own context and connections, on one database: two servers."""
    yield from _clients(db_url, RateLimits(vehicle=RateLimit(3, WINDOW), token=RateLimit(3, WINDOW)), 2)


def _check(client: TestClient, vehicle: KeyedVehicle) -> httpx.Response:
    return client.post(CHECK, headers=sign_request(vehicle.key, vehicle.vin, "POST", CHECK))


def _assert_limited(response: httpx.Response, limit: str) -> None:
    status, kind, message = error_of(response)
    assert (status, kind) == (429, "RateLimited") and limit in message
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW


def test_a_vehicle_over_its_limit_gets_429_and_a_replay_spends_nothing(
    db_url: str, keyed_vehicle: KeyedVehicle
) -> None:
    for (client,) in _clients(db_url, RateLimits(vehicle=RateLimit(2, WINDOW))):
        headers = sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", CHECK)
        assert client.post(CHECK, headers=headers).status_code == 200
        assert error_of(client.post(CHECK, headers=headers))[0] == 401  # a replay: refused, not counted
        assert _check(client, keyed_vehicle).status_code == 200
        _assert_limited(_check(client, keyed_vehicle), f"2 per {WINDOW} s")


def test_a_token_over_its_limit_gets_429_and_bad_tokens_are_not_counted(
    db_url: str, tokens: dict[str, str]
) -> None:
    for (client,) in _clients(db_url, RateLimits(token=RateLimit(2, WINDOW))):
        for _ in range(5):
            assert client.get("/api/me", headers=bearer("not-a-token")).status_code == 401
        assert [client.get("/api/me", headers=bearer(tokens["viewer"])).status_code for _ in range(2)] == [200, 200]
        _assert_limited(client.get("/api/me", headers=bearer(tokens["viewer"])), f"2 per {WINDOW} s")
        assert client.get("/api/me", headers=bearer(tokens["admin"])).status_code == 200  # its own budget
        assert client.get("/api/fleet/counts").status_code == 200  # open reads carry no token to limit


def test_two_servers_on_one_database_share_a_vehicles_budget(
    two_apps: list[TestClient], keyed_vehicle: KeyedVehicle
) -> None:
    first, second = two_apps
    assert [_check(c, keyed_vehicle).status_code for c in (first, second, first)] == [200, 200, 200]
    _assert_limited(_check(second, keyed_vehicle), f"3 per {WINDOW} s")  # each saw at most 2: the count is shared


def test_two_servers_on_one_database_share_a_tokens_budget(
    two_apps: list[TestClient], tokens: dict[str, str]
) -> None:
    first, second = two_apps
    me = [c.get("/api/me", headers=bearer(tokens["engineer"])).status_code for c in (second, first, second)]
    assert me == [200, 200, 200]
    _assert_limited(first.get("/api/me", headers=bearer(tokens["engineer"])), f"3 per {WINDOW} s")


def test_a_signed_request_replayed_to_the_other_server_is_refused(
    two_apps: list[TestClient], keyed_vehicle: KeyedVehicle
) -> None:
    first, second = two_apps
    headers = sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", CHECK)
    assert first.post(CHECK, headers=headers).status_code == 200
    assert error_of(second.post(CHECK, headers=headers)) == (
        401, "Unauthenticated", "this signed request was already used (replay)")
