"""The Uptane attack suite: each attack is defeated and the vehicle keeps its last good software.

The server is the project's real Image repository and Director (``vehicle_support.py``); the
attacker sits between it and the vehicle (an editable copy of what the server serves) and, where
the attack says so, holds some of the server's keys. Every test checks the specific error and
that nothing was installed: same committed images, same bytes in the active slots, no trial.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.signer import Signer
from tuf.api.metadata import Metadata, MetaFile, Root, TargetFile, Targets
from tuf.api.serialization.json import JSONSerializer

from evplatform.errors import OtaError
from evplatform.ota.client import errors as e
from evplatform.ota.client.fetcher import InMemoryFetcher
from evplatform.ota.client.primary import Ecu, VehicleClient
from evplatform.ota.keys import generate_private_key, signer_of
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

MAIN_1 = b"main ecu firmware 1.0 " * 200
MAIN_2 = b"main ecu firmware 2.0 " * 210
BRAKE_1 = b"brake ecu firmware 1.0 " * 150
BRAKE_2 = b"brake ecu firmware 2.0 " * 160
MALWARE = b"malicious firmware " * 100


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


def director(car: Vehicle) -> str:
    return f"director/{car.registered.vin}/"


def snapshot_of(car: Vehicle) -> dict[str, object]:
    """What the vehicle runs, to compare before and after an attack."""
    client = car.client
    return {
        "installed": client.installed(),
        "bytes": {s: slots.image_bytes(slots.active) for s, slots in client.slots.items()},
        "trials": {s: slots.trial for s, slots in client.slots.items()},
    }


def attack(car: Vehicle, mirror: InMemoryFetcher, error: type[e.ClientError]) -> e.ClientError:
    """Run one update check through the attacker's mirror: ``error`` exactly, nothing installed."""
    before = snapshot_of(car)
    car.client.fetcher = mirror
    with pytest.raises(error) as raised:
        car.client.update_check()
    assert type(raised.value) is error, f"{type(raised.value).__name__}: {raised.value}"
    assert snapshot_of(car) == before
    assert all(r.image == before["installed"][r.ecu_serial] for r in car.client.boot())  # type: ignore[index]
    return raised.value


# -- the attacker's tools ---------------------------------------------------------------------------
def load(mirror: InMemoryFetcher, name: str) -> Metadata[Any]:
    return Metadata.from_bytes(mirror.files[name])


def store(mirror: InMemoryFetcher, name: str, metadata: Metadata[Any]) -> bytes:
    data = metadata.to_bytes(JSONSerializer(compact=True))
    mirror.files[name] = data
    return data


def resign(metadata: Metadata[Any], signers: Sequence[Signer]) -> None:
    metadata.signatures.clear()
    for signer in signers:
        metadata.sign(signer, append=True)


def forge(
    mirror: InMemoryFetcher,
    prefix: str,
    edit: Callable[[Targets], None],
    targets_signers: Sequence[Signer],
    snapshot_signers: Sequence[Signer],
    timestamp_signers: Sequence[Signer],
) -> None:
    """New targets (edited), snapshot and timestamp, each one version up, signed with the given keys."""
    timestamp = load(mirror, prefix + "timestamp.json")
    snapshot = load(mirror, f"{prefix}{timestamp.signed.snapshot_meta.version}.snapshot.json")
    targets = load(mirror, f"{prefix}{snapshot.signed.meta['targets.json'].version}.targets.json")
    edit(targets.signed)
    targets.signed.version += 1
    resign(targets, targets_signers)
    data = store(mirror, f"{prefix}{targets.signed.version}.targets.json", targets)
    snapshot.signed.meta["targets.json"] = MetaFile.from_data(targets.signed.version, data, ["sha256"])
    snapshot.signed.version += 1
    resign(snapshot, snapshot_signers)
    data = store(mirror, f"{prefix}{snapshot.signed.version}.snapshot.json", snapshot)
    timestamp.signed.snapshot_meta = MetaFile.from_data(snapshot.signed.version, data, ["sha256"])
    timestamp.signed.version += 1
    resign(timestamp, timestamp_signers)
    store(mirror, prefix + "timestamp.json", timestamp)


def director_keys(server: Server) -> dict[str, list[Signer]]:
    """The Director's online keys: what an attacker who broke into the Director holds."""
    return {role: list(server.keyring.signers("director", role)) for role in ("targets", "snapshot", "timestamp")}


def forge_director(server: Server, car: Vehicle, mirror: InMemoryFetcher, edit: Callable[[Targets], None]) -> None:
    keys = director_keys(server)
    forge(mirror, director(car), edit, keys["targets"], keys["snapshot"], keys["timestamp"])


def director_target(path: str, data: bytes, serial: str, hardware_id: str, counter: int) -> TargetFile:
    target = TargetFile.from_data(path, data, ["sha256"])
    target.unrecognized_fields["custom"] = {"ecu_serial": serial, "hardware_id": hardware_id,
                                            "release_counter": counter}
    return target


def assign_only(*targets: TargetFile) -> Callable[[Targets], None]:
    def edit(signed: Targets) -> None:
        signed.targets = {t.path: t for t in targets}
    return edit


# -- the attacks ---------------------------------------------------------------------------------
def test_arbitrary_software_image_swapped_in_transit(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    mirror = server.mirror(car.registered.vin)
    mirror.files[f"images/{server.image.target('main/2.0').sha256}"] = MALWARE[: len(MAIN_2)].ljust(len(MAIN_2))
    attack(car, mirror, e.ImageVerificationError)


def test_arbitrary_software_metadata_edited_without_keys(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    mirror = server.mirror(car.registered.vin)
    timestamp = json.loads(mirror.files[director(car) + "timestamp.json"])
    timestamp["signed"]["expires"] = "2030-01-01T00:00:00Z"  # the signature no longer matches
    mirror.files[director(car) + "timestamp.json"] = json.dumps(timestamp).encode()
    attack(car, mirror, e.BadSignatureError)


def test_rollback_to_an_older_image(server: Server, tmp_path: Path) -> None:
    car = build_vehicle(server, tmp_path / "car2", factory={"ecu-main": "main/2.0", "ecu-brake": "brake/1.0"})
    mirror = server.mirror(car.registered.vin)
    old = server.image.target("main/1.0")  # genuinely signed by the Image repository, release counter 1
    forge_director(server, car, mirror, assign_only(
        director_target("main/1.0", MAIN_1, "ecu-main", "hw-main", old.release_counter)))
    attack(car, mirror, e.RollbackError)


def test_rollback_of_metadata_to_older_versions(server: Server, car: Vehicle) -> None:
    old = server.mirror(car.registered.vin)
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    car.client.update_check()
    car.client.boot()
    attack(car, old, e.RollbackError)  # yesterday's (still unexpired) Director metadata


def test_freeze_attack_stale_timestamp(server: Server, car: Vehicle) -> None:
    frozen = server.mirror(car.registered.vin)
    server.clock.advance(days=2)  # the timestamps (1 day) have expired; the attacker replays them
    server.service.refresh_timestamps()
    error = attack(car, frozen, e.ExpiredMetadataError)
    assert "timestamp" in str(error)


def test_partial_freeze_of_the_image_repository(server: Server, car: Vehicle) -> None:
    frozen = server.mirror(car.registered.vin)
    server.clock.advance(days=2)
    server.service.refresh_timestamps()
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    fresh = server.mirror(car.registered.vin)
    mirror = InMemoryFetcher({**fresh.files, **{k: v for k, v in frozen.files.items() if k.startswith("image/")}})
    error = attack(car, mirror, e.ExpiredMetadataError)
    assert "Image repository timestamp" in str(error)


def test_endless_data_oversized_metadata(server: Server, car: Vehicle) -> None:
    mirror = server.mirror(car.registered.vin)
    mirror.files[director(car) + "timestamp.json"] = b"{" + b" " * (10 * 1024 * 1024)
    attack(car, mirror, e.EndlessDataError)


def test_endless_data_oversized_image(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    mirror = server.mirror(car.registered.vin)
    mirror.files[f"images/{server.image.target('main/2.0').sha256}"] = MAIN_2 + b"\0" * (1 << 20)
    attack(car, mirror, e.EndlessDataError)


def test_mix_and_match_metadata_from_different_snapshots(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    old = server.mirror(car.registered.vin)
    server.service.assign(car.registered.vin, "ecu-brake", "brake/2.0")
    mirror = server.mirror(car.registered.vin)
    timestamp = load(mirror, director(car) + "timestamp.json")
    snapshot = load(mirror, f"{director(car)}{timestamp.signed.snapshot_meta.version}.snapshot.json")
    version = snapshot.signed.meta["targets.json"].version
    mirror.files[f"{director(car)}{version}.targets.json"] = old.files[f"{director(car)}{version - 1}.targets.json"]
    attack(car, mirror, e.MixAndMatchError)


def test_partial_bundle_one_image_withheld(server: Server, car: Vehicle) -> None:
    server.service.assign_many(car.registered.vin, {"ecu-main": "main/2.0", "ecu-brake": "brake/2.0"})
    mirror = server.mirror(car.registered.vin)
    del mirror.files[f"images/{server.image.target('brake/2.0').sha256}"]
    attack(car, mirror, e.NotFoundError)  # neither ECU installs: all or nothing


def test_partial_bundle_install_interrupted(server: Server, car: Vehicle) -> None:
    server.service.assign_many(car.registered.vin, {"ecu-main": "main/2.0", "ecu-brake": "brake/2.0"})
    before = snapshot_of(car)

    def fail(step: str) -> None:
        if step == "image-written":
            raise OSError("disk full")

    car.client.slots["ecu-main"].fault = fail  # ecu-brake installs first, then ecu-main fails
    with pytest.raises(e.InstallError):
        car.client.update_check()
    assert snapshot_of(car) == before  # the brake ECU's trial was cancelled too


def test_compromised_director_key_alone(server: Server, car: Vehicle) -> None:
    mirror = server.mirror(car.registered.vin)
    mirror.files[f"images/{TargetFile.from_data('x', MALWARE, ['sha256']).hashes['sha256']}"] = MALWARE
    forge_director(server, car, mirror, assign_only(director_target("main/evil", MALWARE, "ecu-main", "hw-main", 9)))
    error = attack(car, mirror, e.TargetMismatchError)
    assert "Image repository does not sign" in str(error)


def test_compromised_image_repository_online_keys_alone(server: Server, car: Vehicle) -> None:
    mirror = server.mirror(car.registered.vin)
    online = {role: list(server.keyring.signers("image", role)) for role in ("snapshot", "timestamp")}

    def add_malware(signed: Targets) -> None:
        signed.targets["main/evil"] = TargetFile.from_data("main/evil", MALWARE, ["sha256"])
    forge(mirror, "image/", add_malware, online["snapshot"], online["snapshot"], online["timestamp"])
    attack(car, mirror, e.ThresholdError)  # targets needs the offline targets key


def test_image_for_the_wrong_hardware_id(server: Server, car: Vehicle) -> None:
    brake = server.image.target("brake/2.0")
    mirror = server.mirror(car.registered.vin)
    # The Director (compromised) tells the main ECU to flash the brake image, claiming it fits.
    forge_director(server, car, mirror, assign_only(
        director_target("brake/2.0", BRAKE_2, "ecu-main", "hw-main", brake.release_counter)))
    attack(car, mirror, e.TargetMismatchError)
    # Or it says the truth about the hardware id: the vehicle refuses it for that ECU.
    mirror = server.mirror(car.registered.vin)
    forge_director(server, car, mirror, assign_only(
        director_target("brake/2.0", BRAKE_2, "ecu-main", "hw-brake", brake.release_counter)))
    attack(car, mirror, e.HardwareMismatchError)


def test_director_refuses_to_assign_the_wrong_hardware(server: Server, car: Vehicle) -> None:
    with pytest.raises(OtaError, match="built for hardware"):
        server.service.assign(car.registered.vin, "ecu-main", "brake/2.0")


def test_signatures_below_threshold(server: Server, car: Vehicle) -> None:
    root = load(server.mirror(car.registered.vin), "image/1.root.json")
    assert root.signed.roles["root"].threshold == 2  # the fixture's Image repository root is 2-of-3
    stolen = server.keyring.signers("image", "root")[0]
    evil = signer_of(generate_private_key())
    new: Metadata[Root] = Metadata(Root(version=2, expires=root.signed.expires, keys=dict(root.signed.keys),
                                        roles=dict(root.signed.roles), consistent_snapshot=True))
    for keyid in list(new.signed.roles["root"].keyids):
        new.signed.revoke_key(keyid, "root")
    new.signed.add_key(evil.public_key, "root")
    new.signed.roles["root"].threshold = 1
    resign(new, [stolen, evil])  # one of the two old root signatures needed
    mirror = server.mirror(car.registered.vin)
    store(mirror, "image/2.root.json", new)
    attack(car, mirror, e.ThresholdError)


def test_expired_metadata(server: Server, car: Vehicle) -> None:
    server.clock.advance(days=8)  # Image snapshot (7 days) expired; the server only renews timestamps
    server.service.refresh_timestamps()
    error = attack(car, server.mirror(car.registered.vin), e.ExpiredMetadataError)
    assert "snapshot" in str(error)


def test_hash_mismatch_between_director_and_image_repository(server: Server, car: Vehicle) -> None:
    """Same path and length as the genuine image, another hash: the hash comparison must refuse it."""
    mirror = server.mirror(car.registered.vin)
    genuine = server.image.target("main/2.0")
    altered = bytearray(MAIN_2)
    altered[100] ^= 0x01
    assert len(altered) == genuine.length
    forged = director_target("main/2.0", bytes(altered), "ecu-main", "hw-main", genuine.release_counter)
    forge_director(server, car, mirror, assign_only(forged))
    error = attack(car, mirror, e.TargetMismatchError)
    assert "hashes differ" in str(error)


def test_length_mismatch_image_served_short_by_one_byte(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    mirror = server.mirror(car.registered.vin)
    mirror.files[f"images/{server.image.target('main/2.0').sha256}"] = MAIN_2[:-1]
    error = attack(car, mirror, e.ImageVerificationError)
    assert "truncated" in str(error)


def test_replayed_vehicle_manifest(server: Server, car: Vehicle) -> None:
    manifest = car.client.version_manifest()
    server.service.submit_manifest(car.registered.vin, manifest)
    with pytest.raises(OtaError, match="replay"):
        server.service.submit_manifest(car.registered.vin, manifest)
    newer = car.client.version_manifest()
    server.service.submit_manifest(car.registered.vin, newer)
    with pytest.raises(OtaError, match="replay"):
        server.service.submit_manifest(car.registered.vin, manifest)


def test_corrupted_image(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    mirror = server.mirror(car.registered.vin)
    corrupted = bytearray(MAIN_2)
    corrupted[1234] ^= 0x10
    mirror.files[f"images/{server.image.target('main/2.0').sha256}"] = bytes(corrupted)
    error = attack(car, mirror, e.ImageVerificationError)
    assert "sha256" in str(error)


def test_truncated_download(server: Server, car: Vehicle) -> None:
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    mirror = server.mirror(car.registered.vin)
    mirror.files[f"images/{server.image.target('main/2.0').sha256}"] = MAIN_2[: len(MAIN_2) // 2]
    attack(car, mirror, e.ImageVerificationError)


@pytest.mark.parametrize("payload", [b"{not json", b"[]", b'{"signed": 1, "signatures": []}', b"\xff\xfe",
                                     b'{"signed": {"_type": "timestamp", "version": 1.5}, "signatures": []}'])
def test_malformed_metadata_json(server: Server, car: Vehicle, payload: bytes) -> None:
    mirror = server.mirror(car.registered.vin)
    mirror.files["image/timestamp.json"] = payload
    attack(car, mirror, e.MalformedMetadataError)


def test_clock_skew_ahead_sees_everything_expired(server: Server, car: Vehicle) -> None:
    """A clock 8 days ahead: the roots (365 days) are still valid, timestamps (1 day) and snapshots
    (7 days) are not, and the first of them checked is the one refused."""
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    mirror = server.mirror(car.registered.vin)
    server.clock.advance(days=8)  # the vehicle's clock is ahead of the server's
    for root in (f"{director(car)}1.root.json", "image/1.root.json"):
        assert not load(mirror, root).signed.is_expired(server.clock())
    error = attack(car, mirror, e.ExpiredMetadataError)
    assert str(error).startswith("Director timestamp.json: version")


def test_clock_skew_turned_back_to_revive_expired_metadata(server: Server, car: Vehicle) -> None:
    frozen = server.mirror(car.registered.vin)
    server.clock.advance(days=2)
    server.service.refresh_timestamps()
    car.client.update_check()  # a good check today
    server.clock.advance(days=-2)  # the attacker sets the vehicle clock back so that old metadata looks fresh
    attack(car, frozen, e.ClockSkewError)


def test_every_attack_is_recorded_for_the_director(server: Server, car: Vehicle) -> None:
    mirror = server.mirror(car.registered.vin)
    mirror.files["image/timestamp.json"] = b"{not json"
    attack(car, mirror, e.MalformedMetadataError)
    result = server.service.submit_manifest(car.registered.vin, car.client.version_manifest())
    assert sorted(result.attacks_detected) == ["ecu-brake", "ecu-main"]  # every ECU's report names it
    for text in result.attacks_detected.values():
        assert text.startswith("MalformedMetadataError: Image repository timestamp.json: not JSON")


@pytest.mark.parametrize("role", ["timestamp", "targets"])
def test_revoked_director_online_key_is_refused(server: Server, car: Vehicle, role: str) -> None:
    """Key revocation: the Director replaces its timestamp and targets keys in a new root; metadata
    signed by a revoked key (still in an attacker's hands) is refused, the new keys are followed."""
    revoked = director_keys(server)
    fresh = {r: generate_private_key() for r in ("timestamp", "targets")}
    server.director.rotate_root(server.keyring.signers("director", "root"), [],
                                keys={r: [signer_of(k).public_key] for r, k in fresh.items()}, online_keys=fresh)
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    assert car.client.update_check().status == "installed"  # signed by the new keys only
    car.client.boot()
    mirror = server.mirror(car.registered.vin)
    signers = {r: [signer_of(k)] for r, k in fresh.items()} | {"snapshot": revoked["snapshot"], role: revoked[role]}
    forge(mirror, director(car), assign_only(director_target("main/1.0", MAIN_1, "ecu-main", "hw-main", 1)),
          signers["targets"], signers["snapshot"], signers["timestamp"])
    error = attack(car, mirror, e.ThresholdError)
    assert f"Director {role}.json" in str(error)


def test_client_with_a_foreign_trust_anchor_trusts_nothing(server: Server, car: Vehicle, tmp_path: Path) -> None:
    other = build_server(tmp_path / "other-oem")
    client = VehicleClient(car.registered.vin, car.registered.signers["ecu-main"],
                           [Ecu(s, h, car.registered.signers[s]) for s, h in car.client.hardware.items()],
                           server.mirror(car.registered.vin), tmp_path / "car3",
                           server.clock, trusted_roots=other.root_bytes())
    with pytest.raises(e.ThresholdError):
        client.update_check()


def test_docs_attack_table_names_only_real_tests_and_every_attack_test() -> None:
    """The attack table of docs/ota.md (moved there from the README) names real tests, and every attack."""
    import re

    page = (Path(__file__).resolve().parents[2] / "docs" / "ota.md").read_text(encoding="utf-8")
    table = page.split("| Attack | Defeated by | Test", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"::(test_\w+)", table))
    here = Path(__file__).parent
    defined = {m for f in here.glob("test_*.py") for m in re.findall(r"^def (test_\w+)", f.read_text(), re.M)}
    assert named <= defined, sorted(named - defined)
    attacks = set(re.findall(r"^def (test_\w+)", Path(__file__).read_text(), re.M))
    unlisted = attacks - named - {"test_director_refuses_to_assign_the_wrong_hardware",
                                  "test_every_attack_is_recorded_for_the_director",
                                  "test_client_with_a_foreign_trust_anchor_trusts_nothing",
                                  "test_docs_attack_table_names_only_real_tests_and_every_attack_test"}
    assert not unlisted, sorted(unlisted)


def test_director_target_for_an_installed_image_is_still_checked_against_the_image_repository(
        server: Server, car: Vehicle) -> None:
    """U 5.4.4.2 step 10: every Director target is checked, not only those with something to install.

    With the Director's keys alone an attacker lists, for the ECU, a path the Image repository never
    signed but with the hash of what the ECU already runs: nothing is downloaded, and the vehicle
    used to report "up to date" on a target no image repository vouches for.
    """
    mirror = server.mirror(car.registered.vin)
    forge_director(server, car, mirror, assign_only(
        director_target("unsigned/1.0", MAIN_1, "ecu-main", "hw-main", 1)))
    attack(car, mirror, e.TargetMismatchError)


def test_freeze_attack_against_a_slow_clock_is_caught_by_the_directors_signed_time(
        server: Server, car: Vehicle) -> None:
    """A vehicle whose clock runs 3 days slow would judge 2-day-old frozen metadata fresh; the Director's
    time, signed in its timestamp in answer to the nonce of the vehicle's manifest, corrects it."""
    vin = car.registered.vin
    server.clock.advance(days=3)  # the vehicle's clock stopped while parked: it now runs 3 days slow
    server.service.refresh_timestamps()
    car.client.clock = lambda: server.clock() - timedelta(days=3)
    first = car.client.update_check()
    server.service.submit_manifest(vin, first.manifest)  # its nonce, answered in the next timestamp
    assert car.client.update_check().status == "up-to-date"  # learns how slow its clock is
    frozen = server.mirror(vin)
    server.clock.advance(days=2)  # the timestamps (1 day) have expired; the vehicle's clock says 1 day ago
    server.service.refresh_timestamps()
    error = attack(car, frozen, e.ExpiredMetadataError)
    assert "timestamp" in str(error)
