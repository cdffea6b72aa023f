"""The vehicle client against the project's real Image repository and Director, in-process."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from evplatform.api import create_app
from evplatform.cli import ota as ota_cli
from evplatform.ota.client.errors import (
    ClientError,
    ClockSkewError,
    ImageVerificationError,
    MixAndMatchError,
    NotFoundError,
)
from evplatform.ota.client.fetcher import HttpFetcher, InMemoryFetcher, ServiceFetcher
from evplatform.ota.client.primary import Ecu, VehicleClient
from evplatform.ota.client.slots import EcuSlots, SlotImage
from evplatform.ota.delta import make_delta
from evplatform.ota.keys import generate_private_key, signer_of
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.service import OtaService
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

MAIN_1 = bytes(range(256)) * 64
MAIN_2 = MAIN_1[:8000] + b"new code" * 100 + MAIN_1[8000:]
BRAKE_1 = b"brake firmware 1 " * 300
BRAKE_2 = b"brake firmware 2 " * 300


pytestmark = pytest.mark.usefixtures("no_fsync")


@pytest.fixture
def server(tmp_path: Path) -> Server:
    server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", MAIN_1, "hw-main", 1), ("main/2.0", MAIN_2, "hw-main", 2),
                         ("brake/1.0", BRAKE_1, "hw-brake", 1), ("brake/2.0", BRAKE_2, "hw-brake", 2)])
    return server


@pytest.fixture
def car(server: Server, tmp_path: Path) -> Vehicle:
    return build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"})


def running(car: Vehicle, ecu: str) -> str:
    """The image file the ECU runs now (its committed slot)."""
    image = car.client.installed()[ecu]
    assert image is not None, f"{ecu} runs nothing"
    return image.filepath


def test_release_reaches_slot_b_and_is_committed_after_the_health_check(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    outcome = car.client.update_check()
    assert outcome.status == "installed"
    [update] = outcome.updates
    assert (update.ecu_serial, update.slot, update.image.filepath) == ("ecu-main", "b", "main/2.0")
    slots = car.client.slots["ecu-main"]
    assert slots.trial == "b" and slots.active == "a"  # not yet committed: still running 1.0
    assert running(car, "ecu-main") == "main/1.0"

    seen: list[bytes] = []

    def healthy(image: SlotImage, data: bytes) -> bool:
        seen.append(data)
        return data == MAIN_2

    results = car.client.boot(healthy)
    main = next(r for r in results if r.ecu_serial == "ecu-main")
    assert main.committed and main.slot == "b" and seen == [MAIN_2]
    assert slots.active == "b" and slots.image_bytes("b") == MAIN_2
    assert running(car, "ecu-brake") == "brake/1.0"  # untouched

    car.report()  # the Director accepts the signed manifest and learns what is installed
    assert server.director.vehicle(car.registered.vin).installed["ecu-main"]["filepath"] == "main/2.0"
    assert car.client.update_check().status == "up-to-date"


def test_failed_health_check_rolls_back_to_the_last_good_software(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    car.client.update_check()
    [_, main] = car.client.boot(lambda image, data: False)
    assert main.rolled_back and main.slot == "a" and main.reason == "health check failed"
    assert running(car, "ecu-main") == "main/1.0"
    assert car.client.slots["ecu-main"].image_bytes("a") == MAIN_1


def test_two_ecus_are_updated_together(server: Server, car: Vehicle) -> None:
    server.service.assign_many(car.registered.vin, {"ecu-main": "main/2.0", "ecu-brake": "brake/2.0"})
    outcome = car.client.update_check()
    assert sorted(u.ecu_serial for u in outcome.updates) == ["ecu-brake", "ecu-main"]
    assert all(r.committed for r in car.client.boot())
    assert {s: i.filepath for s, i in car.client.installed().items() if i} == {
        "ecu-main": "main/2.0", "ecu-brake": "brake/2.0"}


def test_delta_image_is_rebuilt_and_verified(server: Server, car: Vehicle) -> None:
    delta = make_delta(MAIN_1, MAIN_2)
    assert delta.algorithm != "full" and delta.patch_length < len(MAIN_2)
    server.store.put(delta.payload)
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0", delta=delta.director_field(),
                          delta_from=delta.old_sha256)
    [update] = car.client.update_check().updates
    assert update.via_delta and update.downloaded_bytes == delta.patch_length
    car.client.boot()
    assert car.client.slots["ecu-main"].image_bytes("b") == MAIN_2


def test_corrupted_delta_falls_back_to_the_full_image(server: Server, car: Vehicle) -> None:
    delta = make_delta(MAIN_1, MAIN_2)
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0", delta=delta.director_field(),
                          delta_from=delta.old_sha256)
    fetcher = server.mirror(car.registered.vin)
    corrupted = bytearray(delta.payload)
    corrupted[len(corrupted) // 2] ^= 0xFF
    fetcher.files[f"images/{delta.patch_sha256}"] = bytes(corrupted)
    car.client.fetcher = fetcher
    [update] = car.client.update_check().updates
    assert not update.via_delta and update.downloaded_bytes == len(MAIN_2)
    assert car.client.slots["ecu-main"].image_bytes("b") == MAIN_2


def test_partial_verification_secondary_installs_its_own_target(server: Server, tmp_path: Path) -> None:
    car = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"},
                        partial=["ecu-brake"])
    server.service.assign(car.registered.vin, "ecu-brake", "brake/2.0")
    [update] = car.client.update_check().updates
    assert update.ecu_serial == "ecu-brake"
    state = json.loads((tmp_path / "car" / "ecu-brake" / "uptane" / "partial-verification.json").read_text())
    assert state["targets_version"] >= 1


def test_secondary_refuses_an_image_the_director_did_not_sign(server: Server, tmp_path: Path) -> None:
    car = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"},
                        partial=["ecu-brake"])
    server.service.assign(car.registered.vin, "ecu-brake", "brake/2.0")
    secondary = car.client.secondaries["ecu-brake"]
    director_targets = car.client.fetcher.fetch(f"director/{car.registered.vin}/targets.json", 1 << 20)
    with pytest.raises(ImageVerificationError):
        secondary.receive(director_targets, server.clock(), BRAKE_1)  # a compromised primary's substitute
    assert running(car, "ecu-brake") == "brake/1.0"


def test_director_root_rotation_is_followed(server: Server, car: Vehicle) -> None:
    old = server.keyring.signers("director", "root")
    new = [signer_of(generate_private_key())]
    server.director.rotate_root(old, new, keys={"root": [s.public_key for s in new]}, thresholds={"root": 1})
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    assert car.client.update_check().status == "installed"
    stored = json.loads((car.client.state_folder / "director-root.json").read_bytes())
    assert stored["signed"]["version"] == 2


def test_clock_turned_back_is_refused(server: Server, car: Vehicle) -> None:
    car.client.update_check()
    server.clock.advance(hours=-2)
    with pytest.raises(ClockSkewError):
        car.client.update_check()
    server.clock.advance(hours=2, minutes=1)
    assert car.client.update_check().status == "up-to-date"


def test_failure_is_reported_in_the_next_version_manifest(server: Server, car: Vehicle) -> None:
    car.client.fetcher = InMemoryFetcher()  # the link serves nothing
    with pytest.raises(NotFoundError):
        car.client.update_check()
    manifest = json.loads(car.client.version_manifest())
    report = manifest["signed"]["ecu_version_reports"]["ecu-main"]["signed"]
    assert report["attacks_detected"].startswith("NotFoundError")
    result = server.service.submit_manifest(car.registered.vin, json.dumps(manifest).encode())
    assert "ecu-main" in result.attacks_detected


def test_unprovisioned_vehicle_says_what_is_missing(tmp_path: Path, server: Server) -> None:
    with pytest.raises(ClientError, match="at least one ECU"):
        VehicleClient("VIN2", signer_of(generate_private_key()), [], InMemoryFetcher(), tmp_path, server.clock)
    car = build_vehicle(server, tmp_path / "other", vin="VIN0000000000002")
    (car.client.state_folder / "image-root.json").unlink()
    with pytest.raises(ClientError, match="provision"):
        car.client.update_check()


def test_outcome_manifest_is_signed_by_the_primary(server: Server, car: Vehicle) -> None:
    outcome = car.client.update_check()
    document = json.loads(outcome.manifest)
    assert document["signed"]["vin"] == car.registered.vin
    assert document["signatures"][0]["keyid"] == car.registered.signers["ecu-main"].public_key.keyid
    server.clock.advance(timedelta(seconds=1))
    server.service.submit_manifest(car.registered.vin, outcome.manifest)


# -- the rule checker on its own (no I/O) ----------------------------------------------------------
@pytest.mark.parametrize("text", ["plain", "é ü 中文", "tab\there", 'quote"inside', "back\\slash", "\u0001ctl"])
def test_signed_payload_is_securesystemslib_canonical_json(text: str) -> None:
    from securesystemslib.formats import encode_canonical

    from evplatform.ota.client import reports
    from evplatform.ota.client.signatures import _canonical

    signed = {"_type": "targets", "b": [1, True, None, {"z": text, "a": -3}], "a": text, text: 0}
    raw = json.dumps({"signed": signed}).encode()
    canonical = encode_canonical(signed)
    assert canonical is not None
    expected = canonical.encode("utf-8")
    assert _canonical(json.loads(raw)["signed"], raw) == expected
    assert reports._canonical(signed) == expected  # what the vehicle signs in its version reports


def test_trusted_repository_enforces_the_loading_order(server: Server, car: Vehicle) -> None:
    from evplatform.ota.client.errors import VerificationError
    from evplatform.ota.client.trusted_set import TrustedRepository

    mirror = server.mirror(car.registered.vin)
    trusted = TrustedRepository("Image repository", mirror.files["image/1.root.json"], server.clock())
    with pytest.raises(VerificationError, match="timestamp not loaded"):
        trusted.update_snapshot(mirror.files["image/1.snapshot.json"])
    trusted.update_timestamp(mirror.files["image/timestamp.json"])
    with pytest.raises(VerificationError, match="root cannot change"):
        trusted.update_root(mirror.files["image/1.root.json"])


def test_from_evplatform_ota_release_to_a_committed_b_slot(tmp_path: Path) -> None:
    """The issue's end to end: the CLI publishes a release, a simulated vehicle installs and commits it."""
    app = typer.Typer()
    ota_cli.register(app)
    root = tmp_path / "ota"

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, ["ota", *args])
        assert result.exit_code == 0, result.stdout + repr(result.exception)
        return result.stdout

    run("keys", "init", str(root / "keys"), "--insecure-demo-keys")
    run("init", "--root", str(root), "--insecure-demo-keys")
    image = b"hub-os 1.7.0 " * 500
    (tmp_path / "hub-os.img").write_bytes(image)
    (tmp_path / "release.yaml").write_text(
        "version: 1.7.0\nnotes: Faster boot.\nimages:\n  - component: hub-os\n    ecu: central-compute\n"
        f"    hardware_id: MD-HUB-A1\n    file: hub-os.img\n    sha256: {hashlib.sha256(image).hexdigest()}\n"
        f"    length: {len(image)}\n", encoding="utf-8")
    published = json.loads(run("release", str(tmp_path / "release.yaml"), "--root", str(root), "--insecure-demo-keys",
                               "--json"))
    assert published["image_repository_targets_version"] >= 2

    service = OtaService(root, system_clock)
    signer = signer_of(generate_private_key())
    service.register_vehicle("VINE2E0000000001", "hub-1", {"hub-1": ("MD-HUB-A1", signer.public_key)})
    service.assign("VINE2E0000000001", "hub-1", "hub-os/1.7.0")
    roots = {"image": (root / "image" / "metadata" / "1.root.json").read_bytes(),
             "director": (root / "director" / "metadata" / "1.root.json").read_bytes()}
    car = tmp_path / "car"
    factory = b"hub-os 1.6.0 factory image"
    EcuSlots(car, "hub-1").provision(SlotImage("hub-os/1.6.0", hashlib.sha256(factory).hexdigest(), len(factory), 0),
                                     factory)
    client = VehicleClient("VINE2E0000000001", signer, [Ecu("hub-1", "MD-HUB-A1", signer)], ServiceFetcher(service),
                           car, system_clock, trusted_roots=roots)
    outcome = client.update_check()
    assert [(u.slot, u.image.filepath) for u in outcome.updates] == [("b", "hub-os/1.7.0")]
    [boot] = client.boot(lambda info, data: data == image)
    assert boot.committed and boot.slot == "b"
    assert client.slots["hub-1"].image_bytes("b") == image
    service.submit_manifest("VINE2E0000000001", client.version_manifest())
    assert service.vehicle("VINE2E0000000001").installed["hub-1"]["filepath"] == "hub-os/1.7.0"


def test_a_second_check_before_the_reboot_does_not_download_again(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    car.client.update_check()
    mirror = server.mirror(car.registered.vin)
    car.client.fetcher = mirror
    assert car.client.update_check().status == "up-to-date"  # the image waits in slot b for its trial
    assert not any(url.startswith("images/") for url in mirror.requests)
    assert car.client.slots["ecu-main"].trial == "b"


def test_update_over_http_through_the_api(server: Server, tmp_path: Path) -> None:
    """The vehicle talks HTTP to ``evplatform serve``'s Uptane routes (in-process ASGI, no network)."""
    car = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"})
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    app = create_app(None, f"sqlite:///{tmp_path / 'api.db'}", clock=server.clock, ota_root=server.root)
    with TestClient(app) as http:
        car.client.fetcher = HttpFetcher("http://testserver/uptane", client=http)
        outcome = car.client.update_check()
        assert [u.image.filepath for u in outcome.updates] == ["main/2.0"]
        assert car.client.boot()[1].committed
        response = http.post(f"/uptane/director/{car.registered.vin}/manifest", content=car.client.version_manifest())
        assert response.status_code == 200, response.text
    assert car.client.slots["ecu-main"].image_bytes("b") == MAIN_2


def test_unknown_hash_algorithm_in_both_repositories_is_refused(tmp_path: Path) -> None:
    from ota.uptane_world import TARGET_NAME, World

    world = World()
    for repository in (world.image, world.director):
        repository.targets[TARGET_NAME]["hashes"]["shake_128"] = "00"  # hexdigest() would need a length
    client = world.client(tmp_path)
    with pytest.raises(ImageVerificationError, match="unsupported hash algorithm 'shake_128'"):
        client.update_check()


def test_partial_verification_secondary_follows_a_director_root_rotation(server: Server, tmp_path: Path) -> None:
    car = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"},
                        partial=["ecu-brake"])
    old = server.keyring.signers("director", "root")
    for _ in range(2):  # two rotations: the Secondary must walk 1 → 2 → 3
        new = [signer_of(generate_private_key())]
        server.director.rotate_root(old, new, keys={"root": [s.public_key for s in new]}, thresholds={"root": 1})
        old = new
    server.service.assign(car.registered.vin, "ecu-brake", "brake/2.0")
    [update] = car.client.update_check().updates
    assert update.ecu_serial == "ecu-brake"
    assert car.client.secondaries["ecu-brake"].verifier.root_version() == 3


def test_public_namespace_is_small_and_importable() -> None:
    import evplatform.ota.client as client

    assert client.__all__ == sorted(client.__all__)
    assert all(hasattr(client, name) for name in client.__all__)


def test_unchanged_targets_are_parsed_and_signature_checked_once(
    server: Server, car: Vehicle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evplatform.ota.client import signatures, trusted_set

    loads: list[str] = []
    real = signatures.load

    def counting(data: bytes, role_type: str, what: str, limit: int) -> signatures.Loaded:
        loads.append(what)
        return real(data, role_type, what, limit)

    monkeypatch.setattr(trusted_set, "load", counting)
    car.client.update_check()
    first = [w for w in loads if w.endswith("targets.json")]
    loads.clear()
    car.client.update_check()
    assert len(first) == 2 and not [w for w in loads if w.endswith("targets.json")]
    # Changed bytes are verified again (and a forged change is refused as usual).
    mirror = server.mirror(car.registered.vin)
    timestamp = json.loads(mirror.files["image/timestamp.json"])
    version = timestamp["signed"]["meta"]["snapshot.json"]["version"]
    snapshot = json.loads(mirror.files[f"image/{version}.snapshot.json"])
    name = f"image/{snapshot['signed']['meta']['targets.json']['version']}.targets.json"
    digest = server.image.target("main/1.0").sha256
    forged = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    mirror.files[name] = mirror.files[name].replace(digest.encode(), forged.encode())  # same length
    car.client.fetcher = mirror
    with pytest.raises(MixAndMatchError):  # snapshot lists the targets' hash: the cached object is not used
        car.client.update_check()


def test_secondary_refuses_older_director_targets(server: Server, tmp_path: Path) -> None:
    from evplatform.ota.client.errors import ExpiredMetadataError, RollbackError

    car = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"},
                        partial=["ecu-brake"])
    server.service.assign(car.registered.vin, "ecu-brake", "brake/2.0")
    old = car.client.fetcher.fetch(f"director/{car.registered.vin}/targets.json", 1 << 20)
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")  # Director targets version + 1
    car.client.update_check()
    secondary = car.client.secondaries["ecu-brake"]
    with pytest.raises(RollbackError):
        secondary.receive(old, server.clock(), BRAKE_2)  # a primary replaying yesterday's targets
    server.clock.advance(days=30)
    new = car.client.fetcher.fetch(f"director/{car.registered.vin}/targets.json", 1 << 20)
    with pytest.raises(ExpiredMetadataError):
        secondary.receive(new, server.clock(), BRAKE_2)


def test_corrupted_client_state_is_a_clear_error(server: Server, car: Vehicle) -> None:
    (car.client.state_folder / "state.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(ClientError, match="unreadable client state"):
        car.client.update_check()


def test_partial_verification_secondary_keeps_its_own_lower_bound_on_time(server: Server, tmp_path: Path) -> None:
    """U 5.4.4.1 step 1: a Secondary refuses a time before the latest it verified at, whatever the primary says."""
    car = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"},
                        partial=["ecu-brake"])
    server.service.assign(car.registered.vin, "ecu-brake", "brake/2.0")
    targets = car.client.fetcher.fetch(f"director/{car.registered.vin}/targets.json", 1 << 20)
    secondary = car.client.secondaries["ecu-brake"]
    secondary.receive(targets, server.clock(), BRAKE_2)
    with pytest.raises(ClockSkewError, match="before the last verified"):
        secondary.receive(targets, server.clock() - timedelta(days=2), BRAKE_2)
    secondary.receive(targets, server.clock() - timedelta(minutes=1), BRAKE_2)  # within the tolerance
