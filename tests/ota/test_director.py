"""Director: registration, assignments, per-vehicle metadata (fast path = python-tuf's bytes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.formats import encode_canonical
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Metadata, Targets

from evplatform.errors import OtaError
from evplatform.ota._director_render import FastRenderer, render_reference, target_fragment
from evplatform.ota.director import Director
from evplatform.ota.keys import generate_private_key, signer_of
from evplatform.ota.metadata_common import canonical_bytes
from ota.conftest import FakeClock, add_images, register_test_vehicle

HW = {"PRI-1": "MD-HUB-A1", "BMS-1": "MD-BMS-C1", "ZC-1": "MD-ZC-B2"}


def _setup(repositories: tuple) -> tuple:
    image, director, keys = repositories
    add_images(image, keys, [
        ("hub-os/1.7.0", b"hub-1.7" * 50, "MD-HUB-A1", 7),
        ("hub-os/1.6.0", b"hub-1.6" * 50, "MD-HUB-A1", 6),
        ("bms/5.2.0", b"bms" * 40, "MD-BMS-C1", 3),
        ("zone-fw/3.3.0", b"zone" * 30, "MD-ZC-B2", 2),
    ])
    vehicle = register_test_vehicle(director, "VIN0000000000001", HW)
    return image, director, keys, vehicle


def test_published_metadata_verifies_with_python_tuf(repositories: tuple) -> None:
    image, director, _, vehicle = _setup(repositories)
    director.assign(vehicle.vin, "PRI-1", "hub-os/1.7.0", publish=False)
    director.assign(vehicle.vin, "BMS-1", "bms/5.2.0")
    root = Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "root"))
    roles = ("targets", "snapshot", "timestamp")
    loaded: dict[str, Metadata[Any]] = {r: Metadata.from_bytes(director.metadata_bytes(vehicle.vin, r)) for r in roles}
    for role, metadata in loaded.items():
        root.verify_delegate(role, metadata)
    targets = loaded["targets"].signed.targets
    assert set(targets) == {"hub-os/1.7.0", "bms/5.2.0"}
    custom = targets["bms/5.2.0"].unrecognized_fields["custom"]
    assert custom == {"ecu_serial": "BMS-1", "hardware_id": "MD-BMS-C1", "release_counter": 3}
    # Image info is the Image repository's, so the vehicle's both-repositories check passes.
    assert targets["bms/5.2.0"].hashes["sha256"] == image.target("bms/5.2.0").sha256
    served = {r: director.metadata_bytes(vehicle.vin, r) for r in roles}
    loaded["snapshot"].signed.meta["targets.json"].verify_length_and_hashes(served["targets"])
    loaded["timestamp"].signed.snapshot_meta.verify_length_and_hashes(served["snapshot"])
    assert director.verify().ok, director.verify().problems


def test_fast_path_is_byte_identical_to_python_tuf(repositories: tuple, clock: FakeClock) -> None:
    _, director, _, vehicle = _setup(repositories)
    director.assign(vehicle.vin, "PRI-1", "hub-os/1.7.0", publish=False)
    director.assign(vehicle.vin, "ZC-1", "zone-fw/3.3.0", delta={"algorithm": "detools", "sha256": "a" * 64,
                                                                  "length": 12}, delta_from="b" * 64, publish=False)
    record = director.vehicle(vehicle.vin)
    fast = director.render(record, [5, 6, 7])
    targets = {a.filepath: (a.length, a.sha256, a.custom())
               for a in record.assignments.values()}
    expires = [clock() + director.expiry[r] for r in ("targets", "snapshot", "timestamp")]
    reference = render_reference(vehicle.vin, targets, [5, 6, 7], expires, director.online_signers())
    assert fast == reference  # ed25519 is deterministic: same bytes, same signatures


def test_versions_increase_on_every_publish(repositories: tuple) -> None:
    _, director, _, vehicle = _setup(repositories)
    director.publish(vehicle.vin)
    director.publish(vehicle.vin)
    versions = [Metadata.from_bytes(director.metadata_bytes(vehicle.vin, r)).signed.version
                for r in ("targets", "snapshot", "timestamp")]
    assert versions == [2, 2, 2]
    assert Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "targets", 1)).signed.version == 1


def test_wrong_hardware_refused(repositories: tuple) -> None:
    _, director, _, vehicle = _setup(repositories)
    with pytest.raises(OtaError, match="built for hardware MD-BMS-C1"):
        director.assign(vehicle.vin, "PRI-1", "bms/5.2.0")


def test_unknown_vin_ecu_and_image(repositories: tuple) -> None:
    _, director, _, vehicle = _setup(repositories)
    with pytest.raises(OtaError, match="unknown VIN"):
        director.assign("NOPE", "PRI-1", "hub-os/1.7.0")
    with pytest.raises(OtaError, match="unknown VIN"):
        director.metadata_bytes("NOPE", "targets")
    with pytest.raises(OtaError, match="no ECU"):
        director.assign(vehicle.vin, "XX", "hub-os/1.7.0")
    with pytest.raises(OtaError, match="no image"):
        director.assign(vehicle.vin, "PRI-1", "hub-os/9.9.9")
    with pytest.raises(OtaError, match="not a valid VIN"):
        director.vehicle("../../etc")


def test_same_image_on_two_ecus_refused(repositories: tuple) -> None:
    image, director, keys = repositories
    add_images(image, keys, [("zone-fw/3.3.0", b"z", "MD-ZC-B2", 1)])
    vehicle = register_test_vehicle(director, "VIN2", {"ZC-L": "MD-ZC-B2", "ZC-R": "MD-ZC-B2"})
    director.assign(vehicle.vin, "ZC-L", "zone-fw/3.3.0")
    with pytest.raises(OtaError, match="already assigned to ECU ZC-L"):
        director.assign(vehicle.vin, "ZC-R", "zone-fw/3.3.0")


def test_bad_registration(repositories: tuple) -> None:
    _, director, _ = repositories
    key = signer_of(generate_private_key()).public_key
    with pytest.raises(OtaError, match="primary ECU"):
        director.register_vehicle("VIN3", "P", {"Q": ("HW", key)})
    with pytest.raises(OtaError, match="not allowed"):
        director.register_vehicle("VIN3", 'P"', {'P"': ("HW", key)})


def test_expired_director_metadata_detected(repositories: tuple, clock: FakeClock) -> None:
    _, director, _, vehicle = _setup(repositories)
    director.publish(vehicle.vin)
    clock.advance(days=2)
    assert any("timestamp expiry" in p for p in director.verify().problems)
    director.publish(vehicle.vin)
    assert director.verify().ok


def test_director_root_rotation(repositories: tuple) -> None:
    _, director, keys, vehicle = _setup(repositories)
    new_root = generate_private_key()
    new_signer = signer_of(new_root)
    version = director.rotate_root(keys.signers("director", "root"), [new_signer],
                                   keys={"root": [new_signer.public_key]})
    v1 = Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "root", 1))
    v2 = Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "root"))
    assert (v1.signed.version, v2.signed.version, version) == (1, 2, 2)
    new_keyid = new_signer.public_key.keyid
    assert v2.signed.roles["root"].keyids == [new_keyid] and new_keyid in v2.signed.keys
    assert new_keyid not in v1.signed.roles["root"].keyids
    assert director.root.signed.version == 2
    v1.verify_delegate("root", v2)  # signed by the old root's keys (Uptane 5.4.4.3 step 5)
    v2.verify_delegate("root", v2)  # and by its own
    # The new root is served as the current one; the online roles keep their keys.
    assert v2.signed.roles["targets"].keyids == v1.signed.roles["targets"].keyids


def test_other_key_signature_fails_verification(repositories: tuple) -> None:
    _, director, _, vehicle = _setup(repositories)
    rogue = FastRenderer({r: generate_private_key() for r in ("targets", "snapshot", "timestamp")})
    documents = rogue.render(vehicle.vin, director.fragments(director.vehicle(vehicle.vin)), [9, 9, 9],
                             ["2030-01-01T00:00:00Z"] * 3)
    root = Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "root"))
    with pytest.raises(UnsignedMetadataError):
        root.verify_delegate("targets", Metadata.from_bytes(documents["targets"]))


def test_state_survives_reopening(repositories: tuple, clock: FakeClock) -> None:
    image, director, keys, vehicle = _setup(repositories)
    director.assign(vehicle.vin, "BMS-1", "bms/5.2.0")
    reopened = Director.open_with_keyring(director.path, clock, image, keys)
    assert reopened.vehicle(vehicle.vin).assignments["BMS-1"].filepath == "bms/5.2.0"
    assert reopened.vehicles() == [vehicle.vin]


def test_malformed_vehicle_record(repositories: tuple, clock: FakeClock) -> None:
    image, director, keys, vehicle = _setup(repositories)
    (director.vehicle_folder(vehicle.vin) / "vehicle.json").write_text(json.dumps({"vin": vehicle.vin}))
    reopened = Director.open_with_keyring(director.path, clock, image, keys)
    with pytest.raises(OtaError, match="malformed vehicle record"):
        reopened.vehicle(vehicle.vin)


_safe_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_characters='"\\'), max_size=12)
_any_text = st.text(max_size=12)


@settings(max_examples=60, deadline=None)
@given(path=_any_text.filter(bool), serial=_any_text, hw=_any_text, counter=st.integers(0, 2**40),
       length=st.integers(0, 2**40))
def test_canonical_fragments_match_securesystemslib(path: str, serial: str, hw: str, counter: int,
                                                    length: int) -> None:
    custom = {"ecu_serial": serial, "hardware_id": hw, "release_counter": counter}
    expected = encode_canonical({path: {"custom": custom, "hashes": {"sha256": "ab"}, "length": length}})
    assert expected is not None
    assert target_fragment(path, length, "ab", custom) == expected.encode("utf-8")[1:-1]


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | _safe_text | _any_text,
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(_any_text, children, max_size=3),
                    max_leaves=12))
def test_canonical_bytes_match_securesystemslib(value: object) -> None:
    expected = encode_canonical(value)  # type: ignore[arg-type]
    assert expected is not None
    assert canonical_bytes(value) == expected.encode("utf-8")


def test_fast_renderer_needs_every_online_key() -> None:
    with pytest.raises(OtaError, match="missing for snapshot"):
        FastRenderer({"targets": generate_private_key(), "timestamp": generate_private_key()})


def test_open_without_repository(tmp_path: Path, clock: FakeClock, repositories: tuple) -> None:
    image, _, _ = repositories
    with pytest.raises(OtaError, match="no Director repository"):
        Director(tmp_path / "none", clock, image)


def test_reregistration_keeps_versions_and_matching_assignments(repositories: tuple) -> None:
    _, director, _, vehicle = _setup(repositories)
    director.assign(vehicle.vin, "BMS-1", "bms/5.2.0", publish=False)
    director.assign(vehicle.vin, "ZC-1", "zone-fw/3.3.0")
    replaced = register_test_vehicle(director, vehicle.vin, {"PRI-1": "MD-HUB-A1", "BMS-1": "MD-BMS-C1",
                                                             "ZC-1": "MD-ZC-OTHER"})
    record = director.vehicle(replaced.vin)
    assert set(record.assignments) == {"BMS-1"}  # the zone controller changed hardware
    assert record.versions["targets"] == 1
    director.publish(vehicle.vin)
    assert Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "targets")).signed.version == 2


def test_the_vehicle_reads_back_the_assignment_the_director_made(repositories: tuple, clock: FakeClock) -> None:
    from evplatform.ota.client.matching import director_assignments

    image, director, keys, vehicle = _setup(repositories)
    director.assign(vehicle.vin, "PRI-1", "hub-os/1.7.0", publish=False)
    made = director.assign(vehicle.vin, "ZC-1", "zone-fw/3.3.0", delta={"algorithm": "hdiffpatch", "sha256": "a" * 64,
                                                                         "length": 12}, delta_from="b" * 64)
    assert made.delta is not None and made.delta.from_sha256 == "b" * 64
    director_targets: Metadata[Targets] = Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "targets"))
    targets = director_targets.signed
    read = director_assignments(targets, HW)
    assert read == director.vehicle(vehicle.vin).assignments  # one type, same values on both ends
    reopened = Director.open_with_keyring(director.path, clock, image, keys)
    assert reopened.vehicle(vehicle.vin).assignments == read


def test_a_delta_needs_its_fields_and_the_image_it_applies_to(repositories: tuple) -> None:
    _, director, _, vehicle = _setup(repositories)
    with pytest.raises(OtaError, match="delta_from"):
        director.assign(vehicle.vin, "ZC-1", "zone-fw/3.3.0", delta={"algorithm": "x", "sha256": "a" * 64, "length": 1})
    with pytest.raises(OtaError, match="malformed delta"):
        director.assign(vehicle.vin, "ZC-1", "zone-fw/3.3.0", delta={"algorithm": "x"}, delta_from="b" * 64)
    assert director.vehicle(vehicle.vin).assignments == {}


def test_vehicle_records_written_with_component_and_version_still_read(repositories: tuple, clock: FakeClock) -> None:
    image, director, keys, vehicle = _setup(repositories)
    director.assign(vehicle.vin, "BMS-1", "bms/5.2.0")
    path = director.vehicle_folder(vehicle.vin) / "vehicle.json"
    data = json.loads(path.read_text())
    data["assignments"]["BMS-1"].update(component="bms", version="5.2.0")  # the layout before the shared type
    path.write_text(json.dumps(data))
    reopened = Director.open_with_keyring(director.path, clock, image, keys)
    assert reopened.vehicle(vehicle.vin).assignments == director.vehicle(vehicle.vin).assignments


@pytest.mark.parametrize("text", ["ÉCU-ü-東", "line\u2028sep\u2029", "emoji-🚗", "nbsp\u00a0x", "del\x7f"])
def test_fast_path_is_canonical_for_any_unicode(repositories: tuple, clock: FakeClock, text: str) -> None:
    """Non-ASCII serials, hardware ids and paths: the fast path signs exactly the canonical JSON.

    python-tuf's serializer writes non-ASCII as ``\\u`` escapes in the file while signing the raw
    UTF-8 canonical form; ours writes the canonical form itself. The files differ (so do the
    snapshot and timestamp that hash them), the signed documents and signatures must not.
    """
    image, director, keys = repositories
    add_images(image, keys, [(f"fw-{text}/1.0", b"firmware" * 20, f"HW-{text}", 1)])
    vehicle = register_test_vehicle(director, "VINU000000000001", {f"SER-{text}": f"HW-{text}"})
    director.assign(vehicle.vin, f"SER-{text}", f"fw-{text}/1.0", publish=False)
    record = director.vehicle(vehicle.vin)
    fast = director.render(record, [2, 3, 4])
    targets = {a.filepath: (a.length, a.sha256, a.custom())
               for a in record.assignments.values()}
    expires = [clock() + director.expiry[r] for r in ("targets", "snapshot", "timestamp")]
    reference = render_reference(vehicle.vin, targets, [2, 3, 4], expires, director.online_signers())
    ours, theirs = json.loads(fast["targets"]), json.loads(reference["targets"])
    assert ours == theirs  # the same signed document and the same (deterministic ed25519) signature
    canonical = encode_canonical(ours["signed"])
    assert canonical is not None
    assert b'"signed":' + canonical.encode() + b"}" in fast["targets"]
    root = Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "root"))
    roles = ("targets", "snapshot", "timestamp")
    documents: dict[str, Metadata[Any]] = {role: Metadata.from_bytes(fast[role]) for role in roles}
    for role, document in documents.items():
        root.verify_delegate(role, document)
    documents["snapshot"].signed.meta["targets.json"].verify_length_and_hashes(fast["targets"])
    documents["timestamp"].signed.snapshot_meta.verify_length_and_hashes(fast["snapshot"])


def test_timestamp_answers_the_nonce_of_the_last_manifest_with_the_directors_time(
        repositories: tuple, clock: FakeClock) -> None:
    _, director, _, vehicle = _setup(repositories)
    record = director.vehicle(vehicle.vin)
    record.nonce = "ab" * 16
    fast = director.render(record, [2, 3, 4])
    timestamp = Metadata.from_bytes(fast["timestamp"])
    root = Metadata.from_bytes(director.metadata_bytes(vehicle.vin, "root"))
    root.verify_delegate("timestamp", timestamp)
    assert timestamp.signed.unrecognized_fields["custom"] == {"nonce": "ab" * 16,
                                                               "time": clock().strftime("%Y-%m-%dT%H:%M:%SZ")}
    targets = {a.filepath: (a.length, a.sha256, a.custom())
               for a in record.assignments.values()}
    expires = [clock() + director.expiry[r] for r in ("targets", "snapshot", "timestamp")]
    reference = render_reference(vehicle.vin, targets, [2, 3, 4], expires, director.online_signers(),
                                 ("ab" * 16, clock().strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert fast == reference


@pytest.mark.parametrize(
    ("delta", "delta_from", "message"),
    [
        ({"algorithm": "detools", "sha256": "a" * 64, "length": 12.5}, "b" * 64, "length 12.5 is not a positive"),
        ({"algorithm": "detools", "sha256": "a" * 64, "length": True}, "b" * 64, "length True is not a positive"),
        ({"algorithm": "det\x01ools", "sha256": "a" * 64, "length": 12}, "b" * 64, "is not a short lower-case name"),
        ({"algorithm": "detools", "sha256": "A" * 64, "length": 12}, "b" * 64, "is not 64 lower-case hex digits"),
        ({"algorithm": "detools", "sha256": "a" * 64}, "b" * 64, "needs exactly algorithm, sha256 and length"),
        ({"algorithm": "detools", "sha256": "a" * 64, "length": 12}, None, "delta_from"),
    ],
)
def test_a_malformed_delta_offer_is_refused_before_it_is_signed(
        repositories: tuple, delta: dict, delta_from: str | None, message: str) -> None:
    _, director, _, vehicle = _setup(repositories)
    before = director.metadata_bytes(vehicle.vin, "targets") if director.vehicle(vehicle.vin).versions else None
    with pytest.raises(OtaError, match=message):
        director.assign(vehicle.vin, "ZC-1", "zone-fw/3.3.0", delta=delta, delta_from=delta_from)
    assert director.vehicle(vehicle.vin).assignments == {}
    if before is not None:
        assert director.metadata_bytes(vehicle.vin, "targets") == before
