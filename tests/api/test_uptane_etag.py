"""Cheap polling of Uptane metadata: strong ETags, If-None-Match → 304, immutable versioned files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.api.conditional import IMMUTABLE, MAX_IF_NONE_MATCH, listed_tags, none_match, strong_etag
from evplatform.ota.client import HttpFetcher
from evplatform.ota.image_repository import ImageTarget
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of
from evplatform.ota.service import OtaService

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
VIN, OTHER_VIN = "LMDETAG0000000001", "LMDETAG0000000002"


@dataclass
class World:
    client: TestClient
    service: OtaService
    keyring: KeyRing


def _target(version: str) -> tuple[ImageTarget, bytes]:
    data = version.encode() * 512
    return ImageTarget.from_data(f"hub-os/{version}", data, component="hub-os", version=version,
                                 hardware_id="hub-hw-2", release_counter=3), data


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp_path = tmp_path_factory.mktemp("etag")
    root = tmp_path / "ota"
    keyring = KeyRing.init(root / "keys", insecure_demo_keys=True)
    service = OtaService.initialise(root, lambda: NOW, keyring)
    targets = [_target(v) for v in ("1.8.0", "1.9.0")]
    service.image_repository.add_targets([t for t, _ in targets], keyring.signers("image", "targets"))
    for vin, serial in ((VIN, "hub-1"), (OTHER_VIN, "hub-2")):
        service.register_vehicle(vin, serial, {serial: ("hub-hw-2", signer_of(generate_private_key()).public_key)})
        service.assign(vin, serial, "hub-os/1.8.0")
    app = create_app(None, f"sqlite:///{tmp_path / 'api.db'}", clock=lambda: NOW, ota_root=root)
    with TestClient(app) as client:
        yield World(client, service, keyring)


def test_same_etag_is_304_with_no_body(world: World) -> None:
    for path in ("/uptane/image/targets.json", f"/uptane/director/{VIN}/targets.json"):
        first = world.client.get(path)
        assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
        etag = first.headers["etag"]
        assert etag == strong_etag(first.content) and etag.startswith('"') and not etag.startswith("W/")
        again = world.client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag and "content-length" not in again.headers
        assert world.client.get(path, headers={"If-None-Match": f'"stale", W/{etag}'}).status_code == 304
        assert world.client.get(path, headers={"If-None-Match": "*"}).status_code == 304
        assert world.client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_a_new_assignment_changes_the_etag_and_answers_200(world: World) -> None:
    path = f"/uptane/director/{VIN}/targets.json"
    before = world.client.get(path).headers["etag"]
    world.service.assign(VIN, "hub-1", "hub-os/1.9.0")
    after = world.client.get(path, headers={"If-None-Match": before})
    assert after.status_code == 200 and b"hub-os/1.9.0" in after.content
    assert after.headers["etag"] != before


def test_a_new_image_publish_changes_the_etag(world: World) -> None:
    path = "/uptane/image/targets.json"
    before = world.client.get(path).headers["etag"]
    target, _ = _target("2.0.0")
    world.service.image_repository.add_targets([target], world.keyring.signers("image", "targets"))
    after = world.client.get(path, headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["etag"] != before


def test_each_vehicle_has_its_own_etag(world: World) -> None:
    mine = world.client.get(f"/uptane/director/{VIN}/targets.json").headers["etag"]
    other = world.client.get(f"/uptane/director/{OTHER_VIN}/targets.json")
    assert other.headers["etag"] != mine
    assert world.client.get(f"/uptane/director/{OTHER_VIN}/targets.json",
                            headers={"If-None-Match": mine}).status_code == 200


def test_versioned_roots_are_immutable(world: World) -> None:
    for path in ("/uptane/image/1.root.json", f"/uptane/director/{VIN}/1.root.json"):
        response = world.client.get(path)
        assert response.status_code == 200 and response.headers["cache-control"] == IMMUTABLE
        revalidated = world.client.get(path, headers={"If-None-Match": response.headers["etag"]})
        assert revalidated.status_code == 304 and revalidated.headers["cache-control"] == IMMUTABLE
    assert world.client.get("/uptane/image/root.json").headers["cache-control"] == "no-cache"
    assert "etag" not in world.client.get("/uptane/image/9.root.json").headers  # a 404 is not cached


def test_if_none_match_parsing() -> None:
    etag = strong_etag(b"x")
    assert listed_tags(' "a" , W/"b","c"') == ['"a"', '"b"', '"c"']
    assert listed_tags('"a" "b"') is None and listed_tags("a") is None and listed_tags('"a",,') is None
    assert none_match(etag, etag) and none_match(f"W/{etag}", etag) and none_match(" * ", etag)
    assert not none_match(None, etag) and not none_match("", etag) and not none_match(etag[1:-1], etag)
    assert not none_match(f'"x", {etag}, bogus', etag)  # malformed: a full 200, never a wrong 304
    assert not none_match(" " * MAX_IF_NONE_MATCH + etag, etag)  # too long to read


def test_the_vehicle_fetcher_revalidates_metadata_with_if_none_match(world: World) -> None:
    """``HttpFetcher`` keeps the last bytes with their ETag: a 304 hands them back, a change brings the new ones."""
    fetcher = HttpFetcher("http://testserver/uptane", client=world.client)
    url = f"director/{OTHER_VIN}/targets.json"
    first = fetcher.fetch(url, 64 * 1024)
    assert fetcher.fetch(url, 64 * 1024) == first and fetcher.not_modified == 1  # revalidated, not re-sent
    world.service.assign(OTHER_VIN, "hub-2", "hub-os/1.9.0")
    changed = fetcher.fetch(url, 64 * 1024)
    assert changed != first and b"hub-os/1.9.0" in changed and fetcher.not_modified == 1
    data = b"1.9.0" * 512
    (world.service.images_dir / hashlib.sha256(data).hexdigest()).write_bytes(data)
    image = "images/" + hashlib.sha256(data).hexdigest()
    assert fetcher.fetch(image, 64 * 1024) == data and fetcher.fetch(image, 64 * 1024) == data
    assert fetcher.not_modified == 1  # images are never kept: no conditional request for them
